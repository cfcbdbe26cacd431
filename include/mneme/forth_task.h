/*
 * forth_task.h: Forth VMs as kernel tasks (mneme's userspace).
 *
 * Every Forth program is a VM (include/mneme/forth.h) driven by a kernel
 * task: the task runs the VM for a slice of FT_FUEL steps, then yields to
 * the executor, so an endless loop in one VM leaves every other task
 * responsive. When the VM waits (input, MS, RECV, SERVICE, a port read,
 * JOIN) the task waits on the matching wait queue, never blocking others.
 *
 * Input comes from a byte ring (`in`), optionally through a line editor
 * (lineedit.h); output goes to a byte ring (`out`), LF turned into CR LF
 * when FT_CRLF is set. Ctrl-C (0x03) in the input interrupts the running
 * word with THROW -28 and drops pending input.
 *
 * Host words every VM gets (besides the standard KEY EMIT TYPE ACCEPT MS):
 *   SPAWN ( xt -- id )   run xt in a child VM (a new task) that shares the
 *                        dictionary copy-on-write; its output goes to ours
 *   SEND ( x id -- )     put a cell in task id's inbox (waits while full)
 *   RECV ( -- x )        take a cell from our inbox (waits while empty)
 *   JOIN ( id -- n )     wait for child id to end; n: 0 ended normally,
 *                        -1 killed, else the number of errors it reported
 *   KILL ( id -- )       end VM id (a shell is interrupted instead)
 *   ME ( -- id )  PARENT ( -- id )   our id, our parent's (0: none)
 *   TASKS ( -- )         list VMs: id, parent, state, fuel, CPU ms, name
 *   STATUS ( -- )        uptime, heap, kernel tasks, VMs
 *   SERVICE ( req u uuid buf cap -- n )  send the postcard request req u
 *                        to the service whose 16-byte UUID is at uuid,
 *                        through the userspace path; the reply (a result
 *                        byte, 0 ok / 1 error, then the postcard body) is
 *                        copied to buf; n is its length
 *   PORT-OPEN ( port -- )           open a sermux port for this system
 *   PORT-WRITE ( c-addr u port -- ) write to it (waits for room)
 *   PORT-READ ( c-addr u port -- n ) read 1..u bytes (waits for some)
 * Errors are THROW codes: FT_E_NOTASK, FT_E_PORT, FT_E_SERVICE, -9 for
 * addresses outside the VM, -28 when interrupted.
 */
#ifndef MNEME_FORTH_TASK_H
#define MNEME_FORTH_TASK_H

#include <stddef.h>
#include <stdint.h>
#include "mneme/bbq.h"
#include "mneme/forth.h"
#include "mneme/kchannel.h"
#include "mneme/lineedit.h"
#include "mneme/task.h"
#include "mneme/waitq.h"

#define FT_FUEL 20000            /* steps per slice */
#define FT_INBOX 32              /* cells queued per inbox */
#define FT_STACK (12u * 1024u)   /* C stack of a VM task */
#define FT_OBUF 256

/* mneme THROW codes of the kernel words. */
#define FT_E_NOTASK (-300)       /* no such VM */
#define FT_E_PORT (-301)         /* port cannot be opened / is not ours */
#define FT_E_SERVICE (-302)      /* the request could not be sent or timed out */
#define FT_E_NOMEM (-303)        /* no memory for a new VM */
#define FT_E_FAULT (-304)        /* the VM's task ended on a CPU fault */
/* An MN_ error as a THROW code (-1001 ... -1099): its text is mn_strerror's. */
#define FT_E_MN(err) (-1000 + (err))

enum ft_flags {
  FT_CRLF = 1 << 0,     /* output LF as CR LF */
  FT_SHELL = 1 << 1,    /* a shell: KILL interrupts it */
};

enum ft_state { FT_RUN, FT_WAIT_INPUT, FT_WAIT_MS, FT_WAIT_OTHER, FT_DONE };

struct forth_task {
  struct forth_task *next;      /* all VMs */
  uint32_t id, parent;
  char name[TASK_NAME_MAX];
  forth_vm *vm;
  struct task *task;            /* NULL until the task runs */
  struct bbq *in, *out;
  struct lineedit *ed;
  unsigned flags;
  enum ft_state state;
  int killed, ended, exit_code, orphan;
  uint64_t slices, cpu_ns;
  uint64_t fuel;                /* steps used, kept when the VM ends */
  /* boot text, run before any input with its output discarded */
  const char *boot;
  size_t boot_len, boot_pos;
  int booting, in_eof, saw_eof;  /* saw_eof: the VM read the end */
  /* cooked input waiting for the VM */
  char line[LE_LINE_MAX + 1];
  size_t line_len, line_pos;
  uint32_t in_seq;
  /* output */
  char obuf[FT_OBUF];
  size_t olen;
  int discard, running;
  /* what the VM waits for besides input and MS */
  struct waitq *wq;
  uint32_t wseq;
  uint64_t wdeadline;
  struct waitq done;            /* woken when the VM ends */
  struct kchannel inbox;        /* forth_cell messages */
  /* SERVICE */
  struct bbq *replies;
  uint32_t nonce;
  int svc_pending;
  size_t port_off;              /* PORT-WRITE progress */
  uint64_t svc_deadline;
};

struct forth_task_opts {
  const char *name;
  struct bbq *in, *out;         /* either may be NULL (no input: EOF) */
  struct lineedit *ed;          /* NULL: bytes go straight to the VM */
  const char *boot;             /* Forth text run first, output dropped */
  size_t boot_len;
  unsigned flags;
  struct forth_config cfg;
};

/* Makes a VM with the kernel words, for the calling task to run.
 * Returns 0, MN_ENOMEM. */
int forth_task_create(const struct forth_task_opts *o, struct forth_task **out);

/* Runs ft in the calling task until it ends (BYE, end of input, KILL);
 * returns its exit code (0, -1 killed, or errors reported). */
int forth_task_run(struct forth_task *ft);

/* Frees ft (after forth_task_run returned); kills its children. */
void forth_task_destroy(struct forth_task *ft);

struct mn_config_service;
/* Takes the VM sizes of [services.forth_shells] (data, heap, stacks,
 * children's stacks) from s, mn_config_find(cfg, MN_SVC_FORTH_SHELLS);
 * with NULL (no such service) the defaults stay. Call before the first
 * VM is made. */
void forth_task_configure(const struct mn_config_service *s);

/* The default VM sizes (kernel tasks keep their VMs small), as configured. */
void forth_task_default_config(struct forth_config *cfg);
/* The sizes of a SPAWNed child (its stacks; data space is shared). */
void forth_task_child_config(struct forth_config *cfg);

/* Number of live VMs. */
unsigned forth_task_count(void);

/* Words a platform adds to every VM it starts from then on (its
 * diagnostics); w must stay valid. Call before the shells start. */
struct forth_task_word {
  const char *name;
  forth_hostfn fn;
};
void forth_words_platform(const struct forth_task_word *w, size_t n);
/* Words a service adds (the network words, ...), beside the platform's;
 * up to four sets. 0 or MN_ENOSPC. */
int forth_words_add(const struct forth_task_word *w, size_t n);
/* Changes each time words are added (the shells' base image is made
 * again when it changed). */
unsigned forth_words_generation(void);
/* Lines a platform adds to STATUS (x86_64: its cores); NULL: none. */
extern void (*forth_status_platform)(struct forth_task *ft);
/* A service's lines for the STATUS word (the network's counters); fn
 * prints with forth_task_out. One hook. */
void forth_words_status(void (*fn)(struct forth_task *ft));

/* Installs the kernel words (and the platform's) in vm (forth_words.c).
 * 0 or MN_ENOMEM. */
int forth_words_install(struct forth_task *ft);
/* DATE SET-DATE RANDOM (services/forth_clock.c). */
int forth_clock_install(struct forth_task *ft);

/* Internals shared with forth_words.c. */
struct forth_task *forth_task_find(uint32_t id);
struct forth_task *forth_task_first(void);
void forth_task_out(struct forth_task *ft, const char *s, size_t n);
/* Sends what forth_task_out buffered now (a host word about to wait
 * announces it is ready); may wait for room. */
void forth_task_flush(struct forth_task *ft);
/* Output that never waits (line editor echo); ctx is the forth_task. */
void forth_task_echo(void *ctx, const char *s, size_t n);
/* For host words that converse with the user (CHAT): waits for the next
 * input line, through the VM's line editor, and copies it (with its
 * '\n') into buf. Returns its length, MN_ECLOSED at the end of input,
 * MN_ECANCELED on KILL or on Ctrl-C, which here only drops the line
 * being typed (the VM is not interrupted). */
int forth_task_read_line(struct forth_task *ft, char *buf, size_t cap);
int forth_task_spawn_child(struct forth_task *parent, forth_cell xt, uint32_t *id);
void forth_task_kill(struct forth_task *ft);
int forth_task_reap(struct forth_task *ft);

#endif
