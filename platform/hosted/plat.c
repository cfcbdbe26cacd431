/*
 * plat.c: the hosted platform's clock, events, console and halt.
 *
 * Interface: plat_now_ns, plat_wait_event, plat_console_write, plat_halt,
 * plat_irq_save, plat_irq_restore, plat_backtrace, hosted_watch,
 * hosted_unwatch.
 *
 * Events come from one epoll set; plat_wait_event sleeps in epoll until
 * the next timer deadline (to the nanosecond with epoll_pwait2 where the
 * host kernel has it, else rounded up to the millisecond).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <execinfo.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "hosted.h"
#include "mneme/err.h"
#include "mneme/log.h"
#include "mneme/platform.h"
#include "mneme/task.h"

#define MAX_WATCH 64

static struct {
  int epfd;
  int no_pwait2;
  struct {
    int fd;
    hosted_fd_fn fn;
    void *arg;
  } w[MAX_WATCH];
} hp = { -1, 0, { { 0, 0, 0 } } };

uint64_t
plat_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
epfd(void)
{
  if (hp.epfd < 0)
    hp.epfd = epoll_create1(EPOLL_CLOEXEC);
  return hp.epfd;
}

int
hosted_watch(int fd, uint32_t events, hosted_fd_fn fn, void *arg)
{
  for (int i = 0; i < MAX_WATCH; i++) {
    if (hp.w[i].fn)
      continue;
    struct epoll_event ev = { .events = events | EPOLLET, .data.u32 = (uint32_t)i };
    if (epoll_ctl(epfd(), EPOLL_CTL_ADD, fd, &ev) != 0)
      return MN_EIO;
    hp.w[i].fd = fd;
    hp.w[i].fn = fn;
    hp.w[i].arg = arg;
    return 0;
  }
  return MN_ENOSPC;
}

void
hosted_unwatch(int fd)
{
  for (int i = 0; i < MAX_WATCH; i++) {
    if (hp.w[i].fn && hp.w[i].fd == fd) {
      epoll_ctl(epfd(), EPOLL_CTL_DEL, fd, 0);
      hp.w[i].fn = 0;
    }
  }
}

void
plat_wait_event(uint64_t deadline_ns)
{
  struct epoll_event evs[16];
  uint64_t now = plat_now_ns();
  uint64_t wait = deadline_ns > now ? deadline_ns - now : 0;
  int n = -1;
  if (!hp.no_pwait2) {
    struct timespec ts = { (time_t)(wait / 1000000000u), (long)(wait % 1000000000u) };
    n = (int)syscall(SYS_epoll_pwait2, epfd(), evs, 16,
                     deadline_ns == UINT64_MAX ? NULL : &ts, NULL, 0);
    if (n < 0 && errno == ENOSYS)
      hp.no_pwait2 = 1;
  }
  if (hp.no_pwait2) {
    int ms = deadline_ns == UINT64_MAX ? -1
             : wait > 86400000000000ull ? 86400000 : (int)((wait + 999999) / 1000000);
    n = epoll_wait(epfd(), evs, 16, ms);
  }
  for (int i = 0; i < n; i++) {
    unsigned k = evs[i].data.u32;
    if (k < MAX_WATCH && hp.w[k].fn)
      hp.w[k].fn(hp.w[k].fd, evs[i].events, hp.w[k].arg);
  }
}

void
plat_console_write(const char *s, size_t n)
{
  while (n) {
    ssize_t w = write(2, s, n);
    if (w <= 0) {
      if (w < 0 && errno == EINTR)
        continue;
      /* stderr may share a non-blocking file with stdout (the serial
       * port): wait for room, a while at most, rather than drop the text. */
      struct pollfd p = { 2, POLLOUT, 0 };
      if (w < 0 && errno == EAGAIN && poll(&p, 1, 1000) > 0)
        continue;
      return;
    }
    s += w;
    n -= (size_t)w;
  }
}

void
plat_halt(int code)
{
  _exit(code);
}

unsigned long
plat_irq_save(void)
{
  return 0; /* host events are delivered only inside plat_wait_event */
}

void
plat_irq_restore(unsigned long state)
{
  (void)state;
}

size_t
plat_backtrace(uintptr_t *pcs, size_t max)
{
  void *buf[32];
  int n = backtrace(buf, 32);
  size_t k = 0;
  for (int i = 1; i < n && k < max; i++)
    pcs[k++] = (uintptr_t)buf[i];
  return k;
}

/*
 * A fault in a task's stack guard page is a stack overflow: report it as a
 * panic naming the task (on an alternate signal stack, since the task's
 * own is exhausted). Other faults get the default action.
 */
static void
on_segv(int sig, siginfo_t *si, void *uc)
{
  (void)uc;
  struct task *t = task_guard_owner((uintptr_t)si->si_addr);
  if (t)
    panic("stack overflow in task '%s' (guard page hit at %p)", t->name, si->si_addr);
  signal(sig, SIG_DFL);
  raise(sig);
}

void
hosted_fault_init(void)
{
  static char altstack[64 * 1024];
  stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
  sigaltstack(&ss, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigaction(SIGSEGV, &sa, 0);
  sigaction(SIGBUS, &sa, 0);
}
