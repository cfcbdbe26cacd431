/*
 * connect.h: mnemeterm's targets (tcp:, unix:, exec:, a device or pty)
 * and its TCP listeners on 127.0.0.1.
 */
#ifndef MNEMETERM_CONNECT_H
#define MNEMETERM_CONNECT_H

#include <sys/types.h>

/* Opens a target (see mnemeterm --help); a device is set raw at baud.
 * exec: targets set *child to the command's process (0 otherwise).
 * Returns the fd or -1 (errno set). */
int term_open_target(const char *spec, int baud, pid_t *child);

/* A non-blocking listener on 127.0.0.1:port, or -1. */
int term_listen(int port);

#endif
