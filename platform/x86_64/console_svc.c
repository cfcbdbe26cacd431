/*
 * console_svc.c: the PC console as a byte port service (console_svc.h).
 * The keyboard task turns key presses from the IRQ 1 handler's event
 * ring into terminal bytes in the port's rx ring (waiting for room); the
 * display task writes the tx ring to the framebuffer console.
 *
 * Interface: x86_console_early_init, x86_console_kbd_irq,
 * x86_console_start, console_get_port.
 */
#include "console_svc.h"

#include "fbcon.h"
#include "kbd.h"
#include "mneme/err.h"
#include "mneme/ktime.h"
#include "mneme/task.h"
#include "port.h"
#include "serial_svc.h"

static struct x86_port port;
static struct waitq kbd_wq;

void x86_console_kbd_irq(void) {
  kbd_irq();
  waitq_wake_all(&kbd_wq);
}

static int kbd_task(void *arg) {
  (void)arg;
  for (;;) {
    uint32_t seq = waitq_seq(&kbd_wq);
    struct key_event ev[16];
    size_t n = kbd_read(ev, 16);
    for (size_t i = 0; i < n; i++) {
      char b[8];
      size_t m = kbd_to_bytes(&ev[i], b);
      if (m && bbq_write_all(&port.rx, b, m, MN_FOREVER)) return 0;
    }
    if (n) {
      waitq_wake_all(&x86_input_wq);
      continue;
    }
    if (waitq_wait_seq(&kbd_wq, seq, UINT64_MAX) == MN_ECANCELED) return 0;
  }
}

static int fb_task(void *arg) {
  (void)arg;
  for (;;) {
    const uint8_t *p;
    size_t len;
    if (bbq_read_grant(&port.tx, MN_FOREVER, &p, &len)) return 0;
    fbcon_write((const char *)p, len);
    bbq_release(&port.tx, len);
  }
}

void x86_console_early_init(void) { waitq_init(&kbd_wq); }

int x86_console_start(void) {
  int err = x86_port_start(&port, &(struct uuid)CONSOLE_UUID, "console", 4096);
  if (err) return err;
  if (task_spawn("console-kbd", kbd_task, 0, 0, 0) ||
      task_spawn("console-fb", fb_task, 0, 0, 0))
    return MN_ENOMEM;
  return 0;
}

int console_get_port(uint64_t timeout_ns, struct bbq **rx, struct bbq **tx) {
  static const struct svc_type type = CONSOLE_TYPE;
  struct svc_client c;
  int err = svc_connect(&(struct uuid)CONSOLE_UUID, &type, 0, 0, timeout_ns, &c);
  if (err) return err;
  struct serial_req req = {SERIAL_GET_PORT};
  struct serial_resp resp;
  struct serial_err e;
  err = svc_call(&c, &req, &resp, &e, timeout_ns);
  svc_disconnect(&c);
  if (err == MN_ESERVICE) return MN_EBUSY;
  if (err) return err;
  *rx = resp.rx;
  *tx = resp.tx;
  return 0;
}
