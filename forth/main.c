/*
 * main.c: mneme-forth, the Forth VM as a Linux program. It interprets the
 * files named as arguments (as if by INCLUDED), then standard input, and
 * exits at the end of input or on BYE. Ctrl-C (SIGINT) interrupts the
 * running word with THROW -28. On a terminal the keys go raw to the VM's
 * line editor (arrows, history, Ctrl-A/E/U). Exit status: 0, or 1 if an
 * error was reported while not interactive. File-Access and Block words
 * work on host files (blocks in ./blocks.fb unless OPEN-BLOCKS says).
 *
 * Interface: main
 */
#include <mneme/forth.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
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
  int fds[MAX_FILES]; /* fd + 1, 0 = free */
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

/* Files are raw descriptors (fds[i] holds fd + 1); the fileid is i + 1. */
static int fd_of(struct host *h, int handle)
{
  return handle > 0 && handle <= MAX_FILES && h->fds[handle - 1] ? h->fds[handle - 1] - 1 : -1;
}

/* A Forth string as a C path; 0 or -38. */
static int c_path(char *path, size_t cap, const char *name, size_t len)
{
  if (len >= cap || memchr(name, 0, len))
    return -38;
  memcpy(path, name, len);
  path[len] = 0;
  return 0;
}

static int errno_ior(void)
{
  return errno == ENOENT || errno == ENOTDIR || errno == EISDIR ? -38 : -37;
}

static int h_open_mode(void *ctx, const char *name, size_t len, int fam, int create)
{
  struct host *h = ctx;
  char path[4096];
  if (c_path(path, sizeof path, name, len))
    return -38;
  int rw = fam & FORTH_FAM_WRITE ? (fam & FORTH_FAM_READ ? O_RDWR : O_WRONLY) : O_RDONLY;
  for (int i = 0; i < MAX_FILES; i++) {
    if (h->fds[i])
      continue;
    int fd = open(path, rw | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0), 0666);
    if (fd < 0)
      return errno_ior();
    struct stat st;
    if (fstat(fd, &st) || S_ISDIR(st.st_mode)) {
      close(fd);
      return -38;
    }
    h->fds[i] = fd + 1;
    return i + 1;
  }
  return -37;
}

static int h_open(void *ctx, const char *name, size_t len)
{
  return h_open_mode(ctx, name, len, FORTH_FAM_READ, 0);
}

static long h_read(void *ctx, int handle, char *buf, size_t cap)
{
  int fd = fd_of(ctx, handle);
  if (fd < 0)
    return -37;
  ssize_t n;
  while ((n = read(fd, buf, cap)) < 0 && errno == EINTR)
    ;
  return n < 0 ? -37 : (long)n;
}

static void h_close(void *ctx, int handle)
{
  struct host *h = ctx;
  int fd = fd_of(h, handle);
  if (fd >= 0) {
    close(fd);
    h->fds[handle - 1] = 0;
  }
}

static int h_write_file(void *ctx, int handle, const char *buf, size_t len)
{
  int fd = fd_of(ctx, handle);
  if (fd < 0)
    return -37;
  while (len) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -37;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

static int h_seek(void *ctx, int handle, uint64_t pos)
{
  int fd = fd_of(ctx, handle);
  if (fd < 0 || pos > (uint64_t)INT64_MAX)
    return -37;
  return lseek(fd, (off_t)pos, SEEK_SET) < 0 ? -37 : 0;
}

static int h_tell(void *ctx, int handle, uint64_t *pos)
{
  int fd = fd_of(ctx, handle);
  off_t o = fd < 0 ? -1 : lseek(fd, 0, SEEK_CUR);
  if (o < 0)
    return -37;
  *pos = (uint64_t)o;
  return 0;
}

static int h_size(void *ctx, int handle, uint64_t *size)
{
  int fd = fd_of(ctx, handle);
  struct stat st;
  if (fd < 0 || fstat(fd, &st))
    return -37;
  *size = (uint64_t)st.st_size;
  return 0;
}

static int h_resize(void *ctx, int handle, uint64_t size)
{
  int fd = fd_of(ctx, handle);
  if (fd < 0 || size > (uint64_t)INT64_MAX)
    return -37;
  return ftruncate(fd, (off_t)size) ? -37 : 0;
}

static int h_flush(void *ctx, int handle)
{
  int fd = fd_of(ctx, handle);
  return fd < 0 || fsync(fd) ? -37 : 0;
}

static int h_remove(void *ctx, const char *name, size_t len)
{
  char path[4096];
  if (c_path(path, sizeof path, name, len))
    return -38;
  return unlink(path) ? errno_ior() : 0;
}

static int h_rename(void *ctx, const char *from, size_t flen, const char *to, size_t tlen)
{
  char a[4096], b[4096];
  if (c_path(a, sizeof a, from, flen) || c_path(b, sizeof b, to, tlen))
    return -38;
  return rename(a, b) ? errno_ior() : 0;
}

static int h_status(void *ctx, const char *name, size_t len, forth_cell *x)
{
  char path[4096];
  struct stat st;
  if (c_path(path, sizeof path, name, len))
    return -38;
  if (stat(path, &st))
    return errno_ior();
  *x = (forth_cell)st.st_mode;
  return 0;
}

/* Block n of a blocks file: reads past its end give spaces; writing
 * creates the file. */
static int h_block(void *ctx, const char *name, size_t len, int wr, uint64_t n, void *buf)
{
  char path[4096];
  if (c_path(path, sizeof path, name, len) || n > (uint64_t)INT64_MAX / 1024)
    return -38;
  int fd = open(path, (wr ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC, 0666);
  if (fd < 0 && !wr && errno == ENOENT) {
    memset(buf, ' ', 1024);
    return 0;
  }
  if (fd < 0)
    return -37;
  off_t at = (off_t)(n * 1024);
  ssize_t k = wr ? pwrite(fd, buf, 1024, at) : pread(fd, buf, 1024, at);
  close(fd);
  if (k < 0 || (wr && k != 1024))
    return -37;
  if (!wr && k < 1024)
    memset((char *)buf + k, ' ', 1024 - (size_t)k);
  return 0;
}

static const struct forth_files host_files = {
  .open = h_open_mode, .write = h_write_file, .seek = h_seek, .tell = h_tell,
  .size = h_size, .resize = h_resize, .flush = h_flush, .remove = h_remove,
  .rename = h_rename, .status = h_status, .block = h_block,
};

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
    .epoch_s = h_epoch_s, .files = &host_files,
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
