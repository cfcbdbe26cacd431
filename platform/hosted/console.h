/*
 * console.h: the hosted console (stdin/stdout as a pair of byte rings),
 * for the Forth console shell when the serial port is not on stdio.
 */
#ifndef MNEME_HOSTED_CONSOLE_H
#define MNEME_HOSTED_CONSOLE_H

#include "mneme/bbq.h"

/*
 * Starts two tasks copying stdin into *in and *out to stdout. If both are
 * terminals, the terminal is put in raw mode (restored at exit) and
 * *terminal is set. End of stdin closes *in. Returns 0 or MN_ENOMEM.
 */
int hosted_console_open(struct bbq **in, struct bbq **out, int *terminal);

#endif
