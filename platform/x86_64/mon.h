/*
 * mon.h: mneme's built-in monitor, a line-oriented shell on the serial
 * and framebuffer consoles that exercises the platform (memory, timer,
 * keyboard, faults) until the Forth shell runs on it.
 */
#ifndef MNEME_X86_MON_H
#define MNEME_X86_MON_H

#include <stddef.h>

/* Runs the monitor forever (idling in plat_wait_event). */
_Noreturn void mon_run(void);
/* Runs one command line (NUL-terminated, edited in place). */
void mon_exec(char *line);

#endif
