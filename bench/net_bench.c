/*
 * net_bench.c: TCP throughput of the hosted kernel's network stack over
 * slirp (lwIP in the network service, the libslirp NIC), each way, beside
 * the ceiling: two host processes over loopback moving the same bytes.
 * Prints MB/s and the ratios. All traffic stays on 127.0.0.1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "mneme/err.h"
#include "mneme/kernel.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/net.h"
#include "mneme/task.h"
#include "../platform/hosted/hosted.h"

#define BYTES (64u << 20)

static int
listener(uint16_t *port)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t l = sizeof a;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 4) ||
      getsockname(fd, (struct sockaddr *)&a, &l)) {
    perror("net_bench: listen");
    exit(1);
  }
  *port = ntohs(a.sin_port);
  return fd;
}

/* sink: reads everything; source: sends BYTES (both one connection each) */
static void *
sink(void *arg)
{
  int fd = accept((int)(intptr_t)arg, NULL, NULL);
  static char b[1 << 16];
  while (read(fd, b, sizeof b) > 0)
    ;
  close(fd);
  return NULL;
}

static void *
source(void *arg)
{
  int fd = accept((int)(intptr_t)arg, NULL, NULL);
  static char b[1 << 16];
  memset(b, 's', sizeof b);
  for (size_t sent = 0; sent < BYTES;) {
    ssize_t w = write(fd, b, sizeof b);
    if (w <= 0)
      break;
    sent += (size_t)w;
  }
  close(fd);
  return NULL;
}

static uint16_t sink_port, source_port;
static double up_mbs, down_mbs;

static int
bench_task(void *arg)
{
  (void)arg;
  static uint8_t b[1 << 16];
  struct net_conn *c;
  if (net_wait_up(MN_SEC(10)) || net_tcp_connect("10.0.2.2", 8, sink_port, MN_SEC(10), &c))
    return 1;
  uint64_t t0 = ktime_now();
  for (size_t sent = 0; sent < BYTES; sent += sizeof b)
    if (net_tcp_write(c, b, sizeof b, MN_SEC(30)))
      return 1;
  net_tcp_shutdown(c);
  size_t n;
  while (net_tcp_read(c, b, sizeof b, MN_SEC(30), &n) == 0 && n)
    ;
  up_mbs = BYTES / 1e6 / ((double)(ktime_now() - t0) / 1e9);
  net_tcp_close(c);
  if (net_tcp_connect("10.0.2.2", 8, source_port, MN_SEC(10), &c))
    return 1;
  t0 = ktime_now();
  size_t got = 0;
  while (net_tcp_read(c, b, sizeof b, MN_SEC(30), &n) == 0 && n)
    got += n;
  down_mbs = got / 1e6 / ((double)(ktime_now() - t0) / 1e9);
  net_tcp_close(c);
  return got == BYTES ? 0 : 1;
}

/* The ceiling: a child process writes BYTES to this one over loopback. */
static double
loopback_mbs(void)
{
  uint16_t port;
  int lfd = listener(&port);
  pid_t pid = fork();
  if (pid == 0) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    static char b[1 << 16];
    if (connect(fd, (struct sockaddr *)&a, sizeof a))
      _exit(1);
    for (size_t sent = 0; sent < BYTES;) {
      ssize_t w = write(fd, b, sizeof b);
      if (w <= 0)
        _exit(1);
      sent += (size_t)w;
    }
    _exit(0);
  }
  int fd = accept(lfd, NULL, NULL);
  static char b[1 << 16];
  uint64_t t0 = ktime_now();
  size_t got = 0;
  ssize_t n;
  while ((n = read(fd, b, sizeof b)) > 0)
    got += (size_t)n;
  double mbs = got / 1e6 / ((double)(ktime_now() - t0) / 1e9);
  waitpid(pid, NULL, 0);
  close(fd);
  close(lfd);
  return mbs;
}

int
main(void)
{
  double lo = loopback_mbs();
  pthread_t t;
  int fd = listener(&sink_port);
  pthread_create(&t, NULL, sink, (void *)(intptr_t)fd);
  fd = listener(&source_port);
  pthread_create(&t, NULL, source, (void *)(intptr_t)fd);
  size_t size = 64u << 20;
  void *mem = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  struct mem_region r = { (uintptr_t)mem, size };
  struct boot_info bi = { &r, 1, 0, 0, 0 };
  if (mem == MAP_FAILED || kernel_init(&bi))
    return 1;
  klog_set_level(LOG_WARN);
  struct net_config cfg = { .dhcp = 1 };
  struct task *bt;
  int code = 1;
  if (hosted_slirp_start("slirp") || net_start(&cfg) ||
      task_spawn("bench", bench_task, NULL, 64 * 1024, &bt) ||
      task_join(bt, MN_SEC(300), &code) || code) {
    fprintf(stderr, "net_bench: the transfer failed\n");
    return 1;
  }
  printf("net: hosted slirp TCP guest->host %.1f MB/s, host->guest %.1f MB/s; "
         "loopback between two host processes %.1f MB/s; ratios %.3fx and %.3fx\n",
         up_mbs, down_mbs, lo, up_mbs / lo, down_mbs / lo);
  return 0;
}
