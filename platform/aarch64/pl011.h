/*
 * pl011.h: the ARM PL011 UART as the console serial port. It implements
 * the serial driver interface of platform/uefi/serial.h (serial_init,
 * serial_irq_on, serial_write, serial_irq, serial_read,
 * serial_rx_dropped), so the serial port service (serial_svc.c) is
 * shared with x86_64. Its base and interrupt come from the ACPI SPCR
 * (QEMU virt: 0x09000000, SPI 1 = interrupt 33).
 */
#ifndef MNEME_A64_PL011_H
#define MNEME_A64_PL011_H

#include <stdint.h>

/* Finds the UART in the SPCR (before serial_init). */
void pl011_probe(uintptr_t rsdp);
uintptr_t pl011_base(void);
unsigned pl011_irq_id(void);
/* Receive overruns the UART reported. */
uint64_t pl011_overruns(void);

#endif
