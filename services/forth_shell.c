/*
 * forth_shell.c: the Forth shells.
 *
 * Interface: forth_shells_start, forth_console_start.
 *
 * One small task per shell greets at once (banner and first ` ok`
 * prompt), waits for input, then starts a session task that creates the
 * VM (with its line editor) and runs it until BYE or the end of input,
 * then frees it (and its children); the shell task joins it and greets
 * again. An idle shell costs only its small task: the VM (a SPAWN of the
 * shared base image, about 20 KiB of its own) is made at the first input. If input is already waiting when a shell
 * starts (x86_64 puts a CR in to make the VM at boot), the VM starts at
 * once and prints the banner itself. Out of memory is reported on the
 * shell's own output; the input that came is dropped and the shell tries
 * again at the next input.
 */
#include <string.h>
#include "mneme/err.h"
#include "mneme/forth_shell.h"
#include "mneme/forth_task.h"
#include "mneme/kernel.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/sermux.h"

#define SHELL_STACK 4096u   /* the waiting task; the VM gets FT_STACK */

struct shell {
  char name[TASK_NAME_MAX];
  struct bbq *in, *out;
  enum le_mode mode;
  int console;
  int greeted;   /* the banner and first prompt are out: the VM skips them */
  int no_memory; /* the last session could not make its VM */
};

#define BANNER "mneme Forth\r\n"
/* What a fresh VM prints for an empty line: its first prompt. */
#define FIRST_PROMPT " ok\r\n"

/* Words every shell gets, compiled before the first prompt. */
static const char shell_boot[] =
  "CREATE STATUS-UUID $14 C, $63 C, $b7 C, $74 C, $ce C, $29 C, $4e C, $a9 C,\n"
  "  $94 C, $c0 C, $c0 C, $70 C, $56 C, $18 C, $4c C, $38 C,\n"
  "CREATE SVC-REQ 64 ALLOT  VARIABLE SVC-REQ#\n"
  "CREATE SVC-REPLY 256 ALLOT  VARIABLE SVC-REPLY#\n"
  ": REQ{ ( -- ) 0 SVC-REQ# ! ;\n"
  ": REQ-B ( c -- ) SVC-REQ SVC-REQ# @ + C! 1 SVC-REQ# +! ;\n"
  ": REQ-V ( u -- ) BEGIN DUP $7F U> WHILE DUP $7F AND $80 OR REQ-B 7 RSHIFT REPEAT REQ-B ;\n"
  ": REPLY-B ( -- c ) SVC-REPLY SVC-REPLY# @ + C@ 1 SVC-REPLY# +! ;\n"
  ": REPLY-V ( -- u ) 0 0 BEGIN REPLY-B DUP >R $7F AND OVER LSHIFT ROT OR SWAP 7 + R> $80 AND 0= UNTIL DROP ;\n"
  ": }REQ ( uuid -- ) >R SVC-REQ SVC-REQ# @ R> SVC-REPLY 256 SERVICE DROP 0 SVC-REPLY# !\n"
  "  REPLY-B ABORT\" service error\" ;\n"
  ": STATUS-PING ( u -- u' ) REQ{ 0 REQ-B REQ-V STATUS-UUID }REQ REPLY-B DROP REPLY-V ;\n"
  ": UPTIME ( -- ns ) REQ{ 1 REQ-B STATUS-UUID }REQ REPLY-B DROP REPLY-V ;\n";

static void
raw_out(struct shell *sh, const char *s)
{
  bbq_write_all(sh->out, s, strlen(s), MN_SEC(1));
}

/* Drops the input that is there. */
static void
drain(struct shell *sh)
{
  const uint8_t *p;
  size_t len;
  while (bbq_read(sh->in, &p, &len) == 0)
    bbq_release(sh->in, len);
}

/* Runs one VM on the shell (its own task, with a VM-sized stack).
 * Returns 1 if it ended with BYE. */
static int
session(void *arg)
{
  struct shell *sh = arg;
  struct lineedit *ed = kmalloc(sizeof *ed);
  struct forth_task *ft = NULL;
  struct forth_task_opts o;
  memset(&o, 0, sizeof o);
  o.name = sh->name;
  o.in = sh->in;
  o.out = sh->out;
  o.ed = ed;
  o.boot = shell_boot;
  o.boot_len = sizeof shell_boot - 1;
  o.flags = FT_CRLF | FT_SHELL;
  forth_task_default_config(&o.cfg);
  if (!ed || forth_task_create(&o, &ft)) {
    kfree(ed);
    raw_out(sh, "mneme Forth: not enough memory for a shell\r\n");
    drain(sh);
    sh->no_memory = 1;
    return 0;
  }
  lineedit_init(ed, sh->mode, forth_task_echo, ft);
  if (!sh->greeted)
    raw_out(sh, BANNER);
  forth_task_run(ft);
  int bye = !ft->saw_eof;
  forth_task_destroy(ft);
  kfree(ed);
  return bye;
}

static int
shell_task(void *arg)
{
  struct shell *sh = arg;
  for (;;) {
    const uint8_t *p;
    size_t len;
    int err = bbq_read(sh->in, &p, &len);
    if (err == MN_ECLOSED)
      break; /* end of input */
    /* Greet and wait for input, unless input is waiting (the VM starts
     * now and greets) or the last VM could not be made (no prompt that
     * cannot be kept). */
    sh->greeted = err != 0 && !sh->no_memory;
    if (sh->greeted)
      raw_out(sh, BANNER FIRST_PROMPT);
    sh->no_memory = 0;
    if (err && bbq_read_grant(sh->in, MN_FOREVER, &p, &len))
      break; /* end of input */
    bbq_release(sh->in, 0);
    struct task *t;
    int bye = 0;
    if (task_spawn(sh->name, session, sh, FT_STACK, &t) == 0) {
      task_join(t, MN_FOREVER, &bye);
    } else {
      raw_out(sh, "mneme Forth: not enough memory for a shell\r\n");
      drain(sh);
      sh->no_memory = 1;
    }
    if (sh->console && bye) {
      klog(LOG_INFO, "forth console: BYE");
      kernel_shutdown(0);
      return 0;
    }
  }
  if (sh->console)
    klog(LOG_INFO, "forth console: end of input");
  return 0;
}

static int
start(const char *name, struct bbq *in, struct bbq *out, enum le_mode mode,
      int console)
{
  struct shell *sh = kzalloc(sizeof *sh);
  if (!sh)
    return MN_ENOMEM;
  ksnprintf(sh->name, sizeof sh->name, "%s", name);
  sh->in = in;
  sh->out = out;
  sh->mode = mode;
  sh->console = console;
  /* the waiting task and the VM's session task have distinct names */
  char wname[TASK_NAME_MAX];
  ksnprintf(wname, sizeof wname, "%s-wait", name);
  if (task_spawn(wname, shell_task, sh, SHELL_STACK, NULL)) {
    kfree(sh);
    return MN_ENOMEM;
  }
  return 0;
}

int
forth_shells_start(const uint16_t *ports, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    struct sermux_port *p;
    char name[TASK_NAME_MAX];
    int err = sermux_open(ports[i], 0, MN_SEC(1), &p);
    ksnprintf(name, sizeof name, "shell-%u", (unsigned)ports[i]);
    if (!err)
      err = start(name, &p->rx, &p->tx, LE_AUTO, 0);
    if (err)
      return err;
  }
  return 0;
}

int
forth_console_start(struct bbq *in, struct bbq *out, enum le_mode mode)
{
  return start("console", in, out, mode, 1);
}
