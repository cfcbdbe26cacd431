/*
 * smp.h: the other cores (application processors) and the parallel-for
 * (include/mneme/par.h) that runs the inference engine's jobs on them.
 */
#ifndef MNEME_X86_SMP_H
#define MNEME_X86_SMP_H

#include "mneme/par.h"

/* The kernel's parallel-for: the calling task yields before each job (so
 * other tasks run between a forward pass's matmuls), then the job runs on
 * the boot processor and every started AP. */
const struct par_ops *x86_par(void);

#endif
