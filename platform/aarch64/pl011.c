/*
 * pl011.c: the PL011 UART (see pl011.h). Transmit polls the FIFO (it is
 * the panic path); receive is interrupt-driven (receive and receive-
 * timeout interrupts) into a ring that serial_read drains.
 *
 * Interface: pl011_probe, pl011_base, pl011_irq_id, pl011_overruns and
 * serial.h's serial_init, serial_irq_on, serial_write, serial_irq,
 * serial_read, serial_rx_dropped.
 */
#include "pl011.h"

#include <string.h>

#include "a64.h"
#include "acpi.h"
#include "mneme/platform.h"
#include "serial.h"

#define DR 0x00
#define FR 0x18
#define FR_TXFF (1u << 5)
#define FR_RXFE (1u << 4)
#define LCR_H 0x2c
#define CR 0x30
#define IFLS 0x34
#define IMSC 0x38
#define ICR 0x44
#define IM_RX (1u << 4)
#define IM_RT (1u << 6)
#define DR_OE (1u << 11)

#define RING 4096

static uintptr_t base = 0x09000000;
static unsigned irq = 33;
static uint8_t ring[RING];
static volatile uint32_t head, tail;
static volatile uint64_t dropped, overruns;

void pl011_probe(uintptr_t rsdp) {
  const uint8_t *s = acpi_find(rsdp, "SPCR");
  if (!s) return;
  uint32_t len, gsiv;
  uint64_t addr;
  memcpy(&len, s + 4, 4);
  if (len < 80) return;
  /* Interface type 3 (PL011) or 0x0e (SBSA generic UART). */
  if (s[36] != 3 && s[36] != 0x0e && s[36] != 0x0d) return;
  memcpy(&addr, s + 44, 8); /* Generic Address Structure: address */
  memcpy(&gsiv, s + 54, 4);
  if (s[40] == 0 && addr) base = addr; /* system memory space */
  if (gsiv >= 32 && gsiv < 1020) irq = gsiv;
}

uintptr_t pl011_base(void) { return base; }
unsigned pl011_irq_id(void) { return irq; }
uint64_t pl011_overruns(void) { return overruns; }

void serial_init(void) {
  /* The firmware set the rate (QEMU ignores it); keep 8N1 with FIFOs. */
  mmio_write32(base + IMSC, 0);
  mmio_write32(base + ICR, 0x7ff);
  mmio_write32(base + LCR_H, 0x70);
  mmio_write32(base + IFLS, 0); /* receive interrupt at 1/8 full */
  mmio_write32(base + CR, 0x301); /* UARTEN, TXE, RXE */
}

void serial_irq_on(void) { mmio_write32(base + IMSC, IM_RX | IM_RT); }

void serial_write(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    while (mmio_read32(base + FR) & FR_TXFF) {
    }
    mmio_write32(base + DR, (uint8_t)s[i]);
  }
}

void serial_irq(void) {
  /* Clear first, then drain: QEMU raises the receive interrupt only when
   * the FIFO goes from empty to one byte, so a byte that arrived between
   * the last read and a later clear would sit in the FIFO with no
   * interrupt to announce it, and input would stop for good. */
  mmio_write32(base + ICR, IM_RX | IM_RT);
  while (!(mmio_read32(base + FR) & FR_RXFE)) {
    uint32_t d = mmio_read32(base + DR);
    if (d & DR_OE) overruns++;
    if (head - tail == RING) {
      dropped++;
      continue;
    }
    ring[head % RING] = (uint8_t)d;
    head++;
  }
}

size_t serial_read(uint8_t *buf, size_t max) {
  unsigned long s = plat_irq_save();
  size_t n = 0;
  while (n < max && tail != head) buf[n++] = ring[tail++ % RING];
  plat_irq_restore(s);
  return n;
}

uint64_t serial_rx_dropped(void) { return dropped; }
