/*
 * serial.c: 16550 UART driver for COM1. Transmit polls the line status
 * register (the UART is the panic path, so it needs no interrupts);
 * receive is interrupt-driven: IRQ 4 drains the receive FIFO into a ring
 * that the console/serial service reads. Overruns are counted, not hidden.
 *
 * Interface: serial_init, serial_irq_on, serial_write, serial_irq,
 * serial_read, serial_rx_dropped.
 */
#include "serial.h"

#include "mneme/platform.h"
#include "x86.h"

#define COM1 0x3f8
#define RX_RING 4096 /* power of two */

static uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head, rx_tail; /* head: IRQ writes; tail: reader */
static volatile uint64_t rx_dropped;
static int present;

void serial_init(void) {
  outb(COM1 + 1, 0x00);          /* IER: no interrupts */
  outb(COM1 + 3, 0x80);          /* LCR: DLAB */
  outb(COM1 + 0, 0x01);          /* 115200 baud */
  outb(COM1 + 1, 0x00);
  outb(COM1 + 3, 0x03);          /* 8N1 */
  outb(COM1 + 2, 0x07);          /* FIFO on, cleared, trigger at 1 byte */
  outb(COM1 + 4, 0x0b);          /* DTR, RTS, OUT2 (IRQ line enable) */
  outb(COM1 + 7, 0x5a);          /* scratch register: is a UART there? */
  present = inb(COM1 + 7) == 0x5a;
}

void serial_irq_on(void) {
  if (!present) return;
  while (inb(COM1 + 5) & 1) (void)inb(COM1); /* stale bytes */
  outb(COM1 + 1, 0x01);                      /* IER: received data */
}

static void put(uint8_t c) {
  for (int spin = 0; spin < 20000 && !(inb(COM1 + 5) & 0x20); spin++)
    cpu_relax();
  outb(COM1, c);
}

void serial_write(const char *s, size_t n) {
  if (!present) return;
  for (size_t i = 0; i < n; i++) put((uint8_t)s[i]);
}

void serial_irq(void) {
  while (inb(COM1 + 5) & 1) {
    uint8_t c = inb(COM1);
    uint32_t h = rx_head;
    if (h - rx_tail == RX_RING) {
      rx_dropped++;
      continue;
    }
    rx_ring[h % RX_RING] = c;
    rx_head = h + 1;
  }
}

size_t serial_read(uint8_t *buf, size_t max) {
  unsigned long s = plat_irq_save();
  size_t n = 0;
  while (n < max && rx_tail != rx_head) buf[n++] = rx_ring[rx_tail++ % RX_RING];
  plat_irq_restore(s);
  return n;
}

uint64_t serial_rx_dropped(void) { return rx_dropped; }
