/*
 * console_svc.c: the PC console: the console port service
 * (platform/uefi/console_port.c) with the PS/2 keyboard. The PS/2
 * driver's events (the IRQ 1 handler's ring) are published to the
 * keyboard mux by the ps2-kbd task, which the console port reads with
 * every other keyboard; without a mux, console-kbd hands the driver's
 * events to the console port directly.
 *
 * Interface: x86_console_early_init, x86_console_kbd_irq,
 * x86_console_start.
 */
#include "console_svc.h"

#include "kbd.h"
#include "mneme/err.h"
#include "mneme/keyboard.h"
#include "mneme/log.h"
#include "mneme/ktime.h"
#include "mneme/task.h"

static struct waitq kbd_wq;

void x86_console_kbd_irq(void) {
  kbd_irq();
  waitq_wake_all(&kbd_wq);
}

/* Waits for and takes events from the driver's ring. Returns the count,
 * or 0 when canceled. */
static size_t next_events(struct key_event *ev, size_t max) {
  for (;;) {
    uint32_t seq = waitq_seq(&kbd_wq);
    size_t n = kbd_read(ev, max);
    if (n) return n;
    if (waitq_wait_seq(&kbd_wq, seq, UINT64_MAX) == MN_ECANCELED) return 0;
  }
}

/* The PS/2 driver's publisher: driver ring -> keyboard mux. */
static int ps2_task(void *arg) {
  (void)arg;
  struct svc_client c;
  int err = kbd_publisher_connect(&c, MN_SEC(2));
  if (err) {
    klog(LOG_ERROR, "ps2-kbd: no keyboard mux: %s", mn_strerror(err));
    return 0;
  }
  struct key_event ev[16];
  size_t n;
  while ((n = next_events(ev, 16)) != 0)
    for (size_t i = 0; i < n; i++) kbd_publish(&c, &ev[i], MN_FOREVER);
  return 0;
}

/* Console input without a mux: the PS/2 driver's events directly. */
static int direct_reader_task(void *arg) {
  (void)arg;
  struct key_event ev[16];
  size_t n;
  while ((n = next_events(ev, 16)) != 0)
    for (size_t i = 0; i < n; i++)
      if (console_port_key(&ev[i])) return 0;
  return 0;
}

void x86_console_early_init(void) { waitq_init(&kbd_wq); }

int x86_console_start(int use_mux) {
  int err = console_port_start(use_mux);
  if (err) return err;
  if (task_spawn(use_mux ? "ps2-kbd" : "console-kbd", use_mux ? ps2_task : direct_reader_task, 0,
                 0, 0))
    return MN_ENOMEM;
  return 0;
}
