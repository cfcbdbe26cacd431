/*
 * serial_svc.c: the serial port service (include/mneme/serial.h) on
 * COM1. Besides the server (port.c), two tasks: rx moves bytes that the
 * IRQ 4 handler left in the driver's ring into the port's rx ring,
 * waiting for room (back-pressure: the driver ring absorbs bursts, and
 * only what overflows it is dropped and counted); tx writes the tx ring
 * to the UART.
 *
 * Interface: uefi_serial_early_init, uefi_serial_irq, uefi_serial_start,
 * uefi_input_wq.
 */
#include "serial_svc.h"

#include "mneme/err.h"
#include "mneme/ktime.h"
#include "mneme/task.h"
#include "port.h"
#include "serial.h"

struct waitq uefi_input_wq;

static struct uefi_port port;
static struct waitq irq_wq;

void uefi_serial_irq(void) {
  serial_irq();
  waitq_wake_all(&irq_wq);
}

static int rx_task(void *arg) {
  (void)arg;
  for (;;) {
    uint32_t seq = waitq_seq(&irq_wq);
    uint8_t *g;
    size_t room;
    if (bbq_send_grant_max(&port.rx, 4096, MN_FOREVER, &g, &room)) return 0;
    size_t n = serial_read(g, room);
    bbq_commit(&port.rx, n);
    if (n) {
      waitq_wake_all(&uefi_input_wq);
      continue;
    }
    if (waitq_wait_seq(&irq_wq, seq, UINT64_MAX) == MN_ECANCELED) return 0;
  }
}

static int tx_task(void *arg) {
  (void)arg;
  for (;;) {
    const uint8_t *p;
    size_t len;
    if (bbq_read_grant(&port.tx, MN_FOREVER, &p, &len)) return 0;
    serial_write((const char *)p, len);
    bbq_release(&port.tx, len);
  }
}

void uefi_serial_early_init(void) {
  waitq_init(&irq_wq);
  waitq_init(&uefi_input_wq);
}

int uefi_serial_start(void) {
  int err = uefi_port_start(&port, &(struct uuid)SERIAL_UUID, "serial", 4096);
  if (err) return err;
  if (task_spawn("serial-rx", rx_task, 0, 0, 0) ||
      task_spawn("serial-tx", tx_task, 0, 0, 0))
    return MN_ENOMEM;
  return 0;
}
