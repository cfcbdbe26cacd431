/*
 * serial.h: the 16550 UART on COM1 (0x3F8, IRQ 4), 115200 8N1.
 */
#ifndef MNEME_X86_SERIAL_H
#define MNEME_X86_SERIAL_H

#include <stddef.h>
#include <stdint.h>

/* Programs the UART; receive interrupts stay off until serial_irq_on(). */
void serial_init(void);
/* Enables the receive interrupt (after the I/O APIC routes IRQ 4). */
void serial_irq_on(void);
/* Writes n bytes, polling the transmitter (safe in any context). */
void serial_write(const char *s, size_t n);
/* Interrupt handler: moves received bytes into the receive ring. */
void serial_irq(void);
/*
 * Takes up to max received bytes into buf; returns the count (0: none).
 * Bytes that arrived while the ring was full are counted in
 * serial_rx_dropped().
 */
size_t serial_read(uint8_t *buf, size_t max);
uint64_t serial_rx_dropped(void);

#endif
