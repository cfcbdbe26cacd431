/*
 * sermux_users.c: the mux's built-in port users.
 *
 * Interface: sermux_loopback_start, sermux_hello_start,
 * pseudo_keyboard_start, sermux_keyecho_start.
 *
 * loopback   echoes every byte of its port back (port 0 by default);
 * hello      writes a message every interval (port 1, "hello\r\n", 1 s);
 * pseudo-kbd reads its port (2) and publishes the bytes as key events to
 *            the keyboard mux (keyboard.h: kbd_decode_byte);
 * key-echo   subscribes to the keyboard and writes each event as a text
 *            line to its port (no default port: tests and debugging).
 * Each is one task with a small stack; its port is opened at start.
 */
#include <string.h>
#include "mneme/err.h"
#include "mneme/keyboard.h"
#include "mneme/kmem.h"
#include "mneme/log.h"
#include "mneme/sermux.h"
#include "mneme/task.h"
#include "mneme/trace.h"

#define USER_STACK (6u * 1024u)
#define USER_STACK_BIG (8u * 1024u) /* users that trace or format text */

/* ---- loopback ------------------------------------------------------------ */

static int
loopback_task(void *arg)
{
  struct sermux_port *p = arg;
  const uint8_t *d;
  size_t len;
  /* Zero copy: the rx grant goes straight back out through the tx ring. */
  while (bbq_read_grant(&p->rx, MN_FOREVER, &d, &len) == 0) {
    int err = sermux_write(p, d, len, MN_FOREVER);
    bbq_release(&p->rx, len);
    if (err)
      break;
  }
  return 0;
}

int
sermux_loopback_start(uint16_t port)
{
  struct sermux_port *p;
  int err = sermux_open(port, 4096, MN_SEC(1), &p);
  if (err)
    return err;
  return task_spawn("loopback", loopback_task, p, USER_STACK, 0);
}

/* ---- hello ----------------------------------------------------------------- */

struct hello {
  struct sermux_port *p;
  uint64_t interval_ns;
  size_t len;
  char msg[];
};

static int
hello_task(void *arg)
{
  struct hello *h = arg;
  uint64_t next = ktime_now();
  for (;;) {
    uint64_t now = ktime_now();
    next = next + h->interval_ns > now ? next + h->interval_ns : now;
    if (task_sleep_until(next))
      break;
    /* Waits while the host is not reading (back-pressure, no loss). */
    if (sermux_write(h->p, h->msg, h->len, MN_FOREVER))
      break;
  }
  kfree(h);
  return 0;
}

int
sermux_hello_start(uint16_t port, uint32_t interval_ms, const char *msg,
                   size_t len)
{
  if (!interval_ms || !len)
    return MN_EINVAL;
  struct hello *h = kmalloc(sizeof *h + len);
  if (!h)
    return MN_ENOMEM;
  int err = sermux_open(port, 0, MN_SEC(1), &h->p);
  if (err) {
    kfree(h);
    return err;
  }
  h->interval_ns = MN_MSEC(interval_ms);
  h->len = len;
  memcpy(h->msg, msg, len);
  return task_spawn("hello", hello_task, h, USER_STACK, 0);
}

/* ---- pseudo-keyboard ------------------------------------------------------- */

static int
pseudo_keyboard_task(void *arg)
{
  struct sermux_port *p = arg;
  struct svc_client c;
  struct kbd_decoder dec = { 0 };
  int err = kbd_publisher_connect(&c, MN_SEC(5));
  if (err) {
    klog(LOG_ERROR, "pseudo-keyboard: no keyboard mux: %s", mn_strerror(err));
    return err;
  }
  const uint8_t *d;
  size_t len;
  while (bbq_read_grant(&p->rx, MN_FOREVER, &d, &len) == 0) {
    uint64_t sp = TRACE_SPAN_ENTER(LOG_DEBUG, "pseudo-kbd", "publish",
                                   TF_U("bytes", len));
    for (size_t i = 0; i < len; i++) {
      struct key_event ev[4];
      int n = kbd_decode_byte(&dec, d[i], ev);
      for (int k = 0; k < n; k++)
        kbd_publish(&c, &ev[k], MN_SEC(1));
    }
    TRACE_SPAN_EXIT(sp);
    bbq_release(&p->rx, len);
  }
  svc_disconnect(&c);
  return 0;
}

int
pseudo_keyboard_start(uint16_t port)
{
  struct sermux_port *p;
  int err = sermux_open(port, 0, MN_SEC(1), &p);
  if (err)
    return err;
  return task_spawn("pseudo-kbd", pseudo_keyboard_task, p, USER_STACK_BIG, 0);
}

/* ---- key echo ---------------------------------------------------------------- */

static int
keyecho_task(void *arg)
{
  struct sermux_port *p = arg;
  struct kbd_sub *sub;
  int err = kbd_subscribe(64, MN_SEC(5), &sub);
  if (err) {
    klog(LOG_ERROR, "key echo: cannot subscribe: %s", mn_strerror(err));
    return err;
  }
  struct key_event ev;
  while (kbd_next(sub, &ev, MN_FOREVER) == 0) {
    char line[64];
    int n = ksnprintf(line, sizeof line, "%s code=%u ch=%lu mods=%u\n",
                      ev.kind == KEY_PRESSED ? "press" : "release",
                      (unsigned)ev.code, (unsigned long)ev.ch, (unsigned)ev.mods);
    if (sermux_write(p, line, (size_t)n, MN_FOREVER))
      break;
  }
  return 0;
}

int
sermux_keyecho_start(uint16_t port)
{
  struct sermux_port *p;
  int err = sermux_open(port, 0, MN_SEC(1), &p);
  if (err)
    return err;
  return task_spawn("key-echo", keyecho_task, p, USER_STACK_BIG, 0);
}
