/*
 * forth_shell.h: the Forth shells (a VM per terminal, see forth_task.h).
 *
 * A shell waits on its input ring; the first byte that arrives creates
 * its VM (so an unused shell costs only a small task, and a kernel with a
 * small heap still boots), which prints "mneme Forth" and then runs
 * QUIT with ` ok` prompts. BYE ends the VM; the next input starts a new
 * one. On the console, BYE shuts the kernel down and the end of input
 * ends the shell.
 *
 * Input goes through a line editor (lineedit.h): on sermux ports in AUTO
 * mode (echo and editing once the peer shows it is a raw terminal), on
 * the console TERMINAL when it is a terminal, PLAIN otherwise. Output LF
 * becomes CR LF. Every shell VM also knows these words (written in Forth,
 * compiled at creation): STATUS-UUID ( -- addr ), PING ( u -- u' ) and
 * UPTIME ( -- ns ) (requests to the status service through SERVICE).
 */
#ifndef MNEME_FORTH_SHELL_H
#define MNEME_FORTH_SHELL_H

#include <stddef.h>
#include <stdint.h>
#include "mneme/bbq.h"
#include "mneme/lineedit.h"

/* Opens each sermux port and starts its shell. Returns 0 or the first
 * error (the shells started before it keep running). */
int forth_shells_start(const uint16_t *ports, size_t n);

/* Starts the console shell on a pair of rings. mode: how to edit input. */
int forth_console_start(struct bbq *in, struct bbq *out, enum le_mode mode);

#endif
