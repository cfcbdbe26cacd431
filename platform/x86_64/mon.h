/*
 * mon.h: mneme's built-in monitor, a line-oriented shell on the serial
 * and framebuffer consoles that exercises the platform (memory, timer,
 * keyboard, faults) until the Forth shell runs on it.
 */
#ifndef MNEME_X86_MON_H
#define MNEME_X86_MON_H

#include <stddef.h>

/* The monitor task (task_spawn): runs until the machine stops. */
int mon_task(void *arg);
/* Runs one command line (NUL-terminated, edited in place). */
void mon_exec(char *line);

#endif
