/*
 * console_svc.c: the PC console as a byte port service (console_svc.h).
 * The PS/2 driver's events (the IRQ 1 handler's ring) are published to
 * the keyboard mux by the ps2-kbd task; console-kbd subscribes to the mux
 * and turns key presses from every keyboard into terminal bytes in the
 * port's rx ring (waiting for room). Without a mux, console-kbd reads the
 * driver directly. console-fb writes the tx ring to the framebuffer
 * console.
 *
 * Interface: x86_console_early_init, x86_console_kbd_irq,
 * x86_console_start, console_get_port.
 */
#include "console_svc.h"

#include "chat_console.h"
#include "fbcon.h"
#include "kbd.h"
#include "mneme/err.h"
#include "mneme/keyboard.h"
#include "mneme/log.h"
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

/* Puts the terminal bytes of a key press into the port's rx ring; Alt+F1
 * and Alt+F2 switch between the chat and this console, and while the
 * chat is shown its keys go there. */
static int to_port(const struct key_event *ev) {
  if (ev->code == KEY_F && (ev->mods & KEYMOD_ALT) && (ev->ch == 1 || ev->ch == 2)) {
    if (ev->kind == KEY_PRESSED) x86_chat_show(ev->ch == 1);
    return 0;
  }
  if (x86_chat_shown()) {
    x86_chat_key(ev);
    return 0;
  }
  char b[8];
  size_t m = kbd_to_bytes(ev, b);
  if (m && bbq_write_all(&port.rx, b, m, MN_FOREVER)) return -1;
  if (m) waitq_wake_all(&x86_input_wq);
  return 0;
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

/* Console input through the mux: every keyboard's events, as bytes. */
static int mux_reader_task(void *arg) {
  (void)arg;
  struct kbd_sub *sub;
  int err = kbd_subscribe(64, MN_SEC(2), &sub);
  if (err) {
    klog(LOG_ERROR, "console: cannot subscribe to the keyboard: %s", mn_strerror(err));
    return 0;
  }
  struct key_event ev;
  while (kbd_next(sub, &ev, MN_FOREVER) == 0)
    if (to_port(&ev)) break;
  return 0;
}

/* Console input without a mux: the PS/2 driver's events directly. */
static int direct_reader_task(void *arg) {
  (void)arg;
  struct key_event ev[16];
  size_t n;
  while ((n = next_events(ev, 16)) != 0)
    for (size_t i = 0; i < n; i++)
      if (to_port(&ev[i])) return 0;
  return 0;
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

int x86_console_start(int use_mux) {
  int err = x86_port_start(&port, &(struct uuid)CONSOLE_UUID, "console", 4096);
  if (err) return err;
  if (use_mux ? task_spawn("ps2-kbd", ps2_task, 0, 0, 0) ||
                    task_spawn("console-kbd", mux_reader_task, 0, 0, 0)
              : task_spawn("console-kbd", direct_reader_task, 0, 0, 0))
    return MN_ENOMEM;
  if (task_spawn("console-fb", fb_task, 0, 0, 0)) return MN_ENOMEM;
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
