/*
 * serial_svc.c: the serial port service (include/mneme/serial.h) on
 * COM1. Three tasks, as on the hosted platform: the server answers
 * GetPort (one client holds the port); rx moves bytes that the IRQ 4
 * handler left in the driver's ring into the port's rx ring, waiting for
 * room (back-pressure: the driver ring absorbs bursts, and only what
 * overflows it is dropped and counted); tx writes the tx ring to the
 * UART.
 *
 * Interface: x86_serial_start, x86_serial_irq, x86_input_wq.
 */
#include <string.h>

#include "mneme/bbq.h"
#include "mneme/err.h"
#include "mneme/ktime.h"
#include "mneme/serial.h"
#include "mneme/task.h"
#include "mneme/waitq.h"
#include "serial.h"
#include "serial_svc.h"

#define RING_SIZE 4096

struct waitq x86_input_wq;

static struct {
  struct bbq rx, tx;
  struct waitq irq;
  int assigned;
  struct svc_server *srv;
} sp;

void x86_serial_irq(void) {
  serial_irq();
  waitq_wake_all(&sp.irq);
}

static int rx_task(void *arg) {
  (void)arg;
  for (;;) {
    uint32_t seq = waitq_seq(&sp.irq);
    uint8_t *g;
    size_t room;
    if (bbq_send_grant_max(&sp.rx, RING_SIZE, MN_FOREVER, &g, &room)) return 0;
    size_t n = serial_read(g, room);
    bbq_commit(&sp.rx, n);
    if (n) {
      waitq_wake_all(&x86_input_wq);
      continue;
    }
    if (waitq_wait_seq(&sp.irq, seq, UINT64_MAX) == MN_ECANCELED) return 0;
  }
}

static int tx_task(void *arg) {
  (void)arg;
  for (;;) {
    const uint8_t *p;
    size_t len;
    if (bbq_read_grant(&sp.tx, MN_FOREVER, &p, &len)) return 0;
    serial_write((const char *)p, len);
    bbq_release(&sp.tx, len);
  }
}

static int server_task(void *arg) {
  (void)arg;
  SVC_MSG_BUF(m, sizeof(struct serial_req));
  while (svc_recv(sp.srv, m, MN_FOREVER) == 0) {
    if (sp.assigned) {
      struct serial_err e = {SERIAL_ALREADY_ASSIGNED};
      svc_reply_err(sp.srv, &m->env, &e);
    } else {
      struct serial_resp r = {&sp.rx, &sp.tx};
      if (svc_reply_ok(sp.srv, &m->env, &r) == 0) sp.assigned = 1;
    }
  }
  return 0;
}

void x86_serial_early_init(void) {
  waitq_init(&sp.irq);
  waitq_init(&x86_input_wq);
}

int x86_serial_start(void) {
  static const struct svc_type type = SERIAL_TYPE;
  if (bbq_init(&sp.rx, RING_SIZE) || bbq_init(&sp.tx, RING_SIZE))
    return MN_ENOMEM;
  int err = svc_register(&(struct uuid)SERIAL_UUID, "serial", &type, 0,
                         SVC_ACCEPT_ALL, 4, &sp.srv);
  if (err) return err;
  if (task_spawn("serial-srv", server_task, 0, 0, 0) ||
      task_spawn("serial-rx", rx_task, 0, 0, 0) ||
      task_spawn("serial-tx", tx_task, 0, 0, 0))
    return MN_ENOMEM;
  return 0;
}
