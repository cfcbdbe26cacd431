/*
 * main.c: mneme as a Linux process.
 *
 * Usage: mneme [--heap SIZE] [--serial stdio|tcp:PORT|none] [--log LEVEL]
 *
 * The heap is one mmapped region of SIZE bytes (K/M/G suffixes), all the
 * memory the kernel may use. The serial port service runs over stdin and
 * stdout or a TCP listener on 127.0.0.1; the userspace message bridge
 * and the status service run on top of it.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "hosted.h"
#include "mneme/err.h"
#include "mneme/ktime.h"
#include "mneme/kernel.h"
#include "mneme/log.h"
#include "mneme/serial.h"
#include "mneme/status.h"
#include "mneme/task.h"
#include "mneme/userbridge.h"

struct opts {
  size_t heap;
  const char *serial;
  int log_level;
};

static int
parse_size(const char *s, size_t *out)
{
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  switch (*end) {
  case 'k': case 'K': v <<= 10; end++; break;
  case 'm': case 'M': v <<= 20; end++; break;
  case 'g': case 'G': v <<= 30; end++; break;
  }
  if (end == s || *end || v == 0)
    return -1;
  *out = (size_t)v;
  return 0;
}

static void
usage(void)
{
  fprintf(stderr,
          "usage: mneme [--heap SIZE] [--serial stdio|tcp:PORT|none] [--log LEVEL]\n"
          "  --heap SIZE     memory the kernel may use (default 1M; K/M/G)\n"
          "  --serial SPEC   serial port: stdin/stdout, or 127.0.0.1:PORT\n"
          "  --log LEVEL     trace, debug, info, warn or error (default info)\n");
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
  static const char *levels[] = { "trace", "debug", "info", "warn", "error" };
  o->heap = 1u << 20;
  o->serial = "stdio";
  o->log_level = LOG_INFO;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : 0;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage();
      exit(0);
    } else if (!strcmp(a, "--heap") && v) {
      if (parse_size(v, &o->heap))
        return -1;
      i++;
    } else if (!strcmp(a, "--serial") && v) {
      o->serial = v;
      i++;
    } else if (!strcmp(a, "--log") && v) {
      int l = -1;
      for (int k = 0; k < 5; k++)
        if (!strcmp(v, levels[k]))
          l = k;
      if (l < 0)
        return -1;
      o->log_level = l;
      i++;
    } else {
      return -1;
    }
  }
  return 0;
}

static int
start_services(void *arg)
{
  const struct opts *o = arg;
  int err = status_start();
  if (err)
    klog(LOG_ERROR, "status service: %s", mn_strerror(err));
  if (strcmp(o->serial, "none") != 0) {
    struct bbq *rx, *tx;
    err = serial_get_port(MN_SEC(1), &rx, &tx);
    if (!err)
      err = userbridge_start(rx, tx, 1024);
    if (err)
      klog(LOG_ERROR, "userspace bridge: %s", mn_strerror(err));
  }
  klog(LOG_INFO, "mneme is up");
  return 0;
}

int
main(int argc, char **argv)
{
  struct opts o;
  if (parse_args(argc, argv, &o)) {
    usage();
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  hosted_fault_init();
  void *mem = mmap(0, o.heap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    perror("mneme: mmap");
    return 1;
  }
  struct mem_region region = { (uintptr_t)mem, o.heap };
  struct boot_info bi = { &region, 1, 0, 0, 0 };
  klog_set_level(o.log_level);
  if (kernel_init(&bi)) {
    fprintf(stderr, "mneme: a heap of %zu bytes is too small\n", o.heap);
    return 1;
  }
  klog(LOG_INFO, "mneme (hosted): heap %zu KiB", o.heap >> 10);
  if (strcmp(o.serial, "none") != 0) {
    int err = hosted_serial_start(o.serial);
    if (err) {
      fprintf(stderr, "mneme: serial '%s': %s\n", o.serial, mn_strerror(err));
      return 1;
    }
  }
  if (task_spawn("init", start_services, &o, 0, 0)) {
    fprintf(stderr, "mneme: cannot start the first task\n");
    return 1;
  }
  return kernel_run();
}
