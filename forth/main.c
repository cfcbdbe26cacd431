/*
 * main.c: mneme-forth, the Forth VM as a Linux program. It interprets the
 * files named as arguments (as if by INCLUDED), then standard input, and
 * exits at the end of input or on BYE. Ctrl-C (SIGINT) interrupts the
 * running word with THROW -28. On a terminal the keys go raw to the VM's
 * line editor (arrows, history, Ctrl-A/E/U). Exit status: 0, or 1 if an
 * error was reported while not interactive.
 *
 * Interface: main
 */
#include <mneme/forth.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES 32

struct host {
  char **args;
  int nargs, argi;
  char line[4200];
  size_t len, pos;
  int tty;
  unsigned char in[4096]; /* stdin, read by hand so KEY? can see it */
  size_t in_len, in_pos;
  FILE *files[MAX_FILES];
};

static forth_vm *g_vm;
static struct termios g_saved;
static int g_raw;

static void restore_tty(void)
{
  if (g_raw)
    tcsetattr(0, TCSANOW, &g_saved);
  g_raw = 0;
}

/* Raw keys (no echo, no line buffering) so the VM's line editor works;
 * Ctrl-C still raises SIGINT. */
static int raw_tty(void)
{
  struct termios t;
  if (tcgetattr(0, &g_saved))
    return 0;
  t = g_saved;
  t.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  if (tcsetattr(0, TCSANOW, &t))
    return 0;
  g_raw = 1;
  atexit(restore_tty);
  return 1;
}
static volatile sig_atomic_t g_int;

static void on_sigint(int sig)
{
  (void)sig;
  g_int = 1;
  if (g_vm)
    forth_interrupt(g_vm);
}

static void *h_alloc(void *ctx, void *old, size_t osz, size_t nsz)
{
  (void)ctx;
  (void)osz;
  if (!nsz) {
    free(old);
    return NULL;
  }
  if (!old)
    return calloc(1, nsz); /* cfg.zeroed: new blocks are zero-filled */
  return realloc(old, nsz);
}

static void h_write(void *ctx, const char *buf, size_t len)
{
  fwrite(buf, 1, len, stdout);
}

/* Next argument as a line "S\" name\" INCLUDED"; 0 if none is left. */
static int next_arg(struct host *h)
{
  while (h->argi < h->nargs) {
    const char *a = h->args[h->argi++];
    if (strchr(a, '"') || strchr(a, '\n') || strlen(a) > 1000) {
      fprintf(stderr, "mneme-forth: cannot include %s\n", a);
      continue;
    }
    h->len = (size_t)snprintf(h->line, sizeof h->line,
                              "S\" %s\" INCLUDED\n", a);
    h->pos = 0;
    return 1;
  }
  return 0;
}

static int h_key(void *ctx)
{
  struct host *h = ctx;
  if (h->pos < h->len || next_arg(h))
    return (unsigned char)h->line[h->pos++];
  if (h->in_pos < h->in_len)
    return h->in[h->in_pos++];
  fflush(stdout);
  for (;;) {
    ssize_t n = read(0, h->in, sizeof h->in);
    if (n > 0) {
      h->in_len = (size_t)n;
      h->in_pos = 1;
      return h->in[0];
    }
    if (n < 0 && errno == EINTR) {
      if (g_int) {
        g_int = 0;
        return 3;
      }
      continue;
    }
    return FORTH_KEY_EOF;
  }
}

static int h_key_ready(void *ctx)
{
  struct host *h = ctx;
  struct pollfd p = {.fd = 0, .events = POLLIN};
  return h->pos < h->len || h->argi < h->nargs || h->in_pos < h->in_len ||
         poll(&p, 1, 0) > 0;
}

static int h_open(void *ctx, const char *name, size_t len)
{
  struct host *h = ctx;
  char path[4096];
  if (len >= sizeof path)
    return -38;
  memcpy(path, name, len);
  path[len] = 0;
  for (int i = 0; i < MAX_FILES; i++) {
    if (h->files[i])
      continue;
    h->files[i] = fopen(path, "rb");
    return h->files[i] ? i : -38;
  }
  return -37;
}

static long h_read(void *ctx, int handle, char *buf, size_t cap)
{
  struct host *h = ctx;
  if (handle < 0 || handle >= MAX_FILES || !h->files[handle])
    return -37;
  size_t n = fread(buf, 1, cap, h->files[handle]);
  if (!n && ferror(h->files[handle]))
    return -37;
  return (long)n;
}

static void h_close(void *ctx, int handle)
{
  struct host *h = ctx;
  if (handle >= 0 && handle < MAX_FILES && h->files[handle]) {
    fclose(h->files[handle]);
    h->files[handle] = NULL;
  }
}

static uint64_t h_now_ms(void *ctx)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int64_t h_epoch_s(void *ctx)
{
  return (int64_t)time(NULL);
}

static void sleep_until(uint64_t deadline)
{
  uint64_t now = h_now_ms(NULL);
  if (deadline > now) {
    uint64_t d = deadline - now;
    struct timespec ts = {(time_t)(d / 1000), (long)(d % 1000) * 1000000};
    nanosleep(&ts, NULL);
  }
}

int main(int argc, char **argv)
{
  static struct host h;
  h.args = argv + 1;
  h.nargs = argc - 1;
  h.tty = isatty(0);
  struct forth_host fh = {
    .ctx = &h, .alloc = h_alloc, .write = h_write, .key = h_key,
    .key_ready = h_key_ready,
    .open = h_open, .read = h_read, .close = h_close, .now_ms = h_now_ms,
    .epoch_s = h_epoch_s,
  };
  struct forth_config cfg = {.data_bytes = 8 << 20, .heap_bytes = 8 << 20,
                             .interactive = h.tty, .zeroed = 1};
  if (h.tty)
    cfg.line_edit = raw_tty();
  forth_vm *vm;
  int r = forth_create(&vm, &fh, &cfg);
  if (r) {
    fprintf(stderr, "mneme-forth: cannot create the VM (%d)\n", r);
    return 2;
  }
  g_vm = vm;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigaction(SIGINT, &sa, NULL);
  for (;;) {
    r = forth_run(vm, 1L << 22);
    if (r == FORTH_YIELD)
      continue;
    if (r == FORTH_WAIT) {
      uint64_t dl = forth_wait_deadline(vm);
      if (dl)
        sleep_until(dl);
      continue;
    }
    break;
  }
  fflush(stdout);
  restore_tty();
  int status = r == FORTH_DONE && (h.tty || !forth_errors(vm)) ? 0 : 1;
  g_vm = NULL;
  forth_destroy(vm);
  return status;
}
