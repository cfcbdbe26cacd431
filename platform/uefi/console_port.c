/*
 * console_port.c: the framebuffer console as a byte port service
 * (console_port.h), the same on both UEFI platforms. console-fb writes
 * the tx ring to the framebuffer console (fbcon.c); console-kbd, with the
 * keyboard mux, subscribes to it and turns the key presses of every
 * keyboard (PS/2, USB) into terminal bytes in the rx ring, waiting for
 * room. Alt+F1 shows the chat screen (chat_console.c), Alt+F2 this
 * console again; while the chat is shown its keys go there.
 *
 * plat_console_write (the kernel's console: log lines, fault dumps) goes
 * to the serial port and the framebuffer console directly.
 *
 * Interface: plat_console_write, console_port_start, console_port_key,
 * console_get_port.
 */
#include "console_port.h"

#include "chat_console.h"
#include "fbcon.h"
#include "mneme/err.h"
#include "mneme/keyboard.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/platform.h"
#include "mneme/task.h"
#include "port.h"
#include "serial.h"
#include "serial_svc.h"

static struct uefi_port port;

/*
 * Interrupts stay on: tasks do not preempt each other and interrupt
 * handlers do not print (a fault dump ends in plat_halt), so only the
 * receive interrupts run meanwhile, which keeps the UART's FIFO from
 * overflowing while a long line goes out at 115200 baud. A lone \n goes
 * out as \r\n on the serial port.
 */
void plat_console_write(const char *s, size_t n) {
  size_t from = 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) {
      serial_write(s + from, i - from);
      serial_write("\r\n", 2);
      from = i + 1;
    }
  serial_write(s + from, n - from);
  fbcon_write(s, n);
}

int console_port_key(const struct key_event *ev) {
  if (ev->code == KEY_F && (ev->mods & KEYMOD_ALT) && (ev->ch == 1 || ev->ch == 2)) {
    if (ev->kind == KEY_PRESSED) uefi_chat_show(ev->ch == 1);
    return 0;
  }
  if (uefi_chat_shown()) {
    uefi_chat_key(ev);
    return 0;
  }
  char b[8];
  size_t m = kbd_to_bytes(ev, b);
  if (m && bbq_write_all(&port.rx, b, m, MN_FOREVER)) return -1;
  if (m) waitq_wake_all(&uefi_input_wq);
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
    if (console_port_key(&ev)) break;
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

int console_port_start(int use_mux) {
  int err = uefi_port_start(&port, &(struct uuid)CONSOLE_UUID, "console", 4096);
  if (err) return err;
  if (use_mux && task_spawn("console-kbd", mux_reader_task, 0, 0, 0)) return MN_ENOMEM;
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
