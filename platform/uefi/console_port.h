/*
 * console_port.h: the console port service both UEFI platforms offer
 * (x86_64: framebuffer + PS/2, platform/x86_64/console_svc.c; aarch64:
 * framebuffer + keyboard mux, platform/aarch64/console.c), shaped exactly
 * like the serial port service (include/mneme/serial.h: GetPort hands out
 * an rx and a tx ring, one client at a time), under its own UUID.
 */
#ifndef MNEME_UEFI_CONSOLE_PORT_H
#define MNEME_UEFI_CONSOLE_PORT_H

#include <stdint.h>

#include "mneme/bbq.h"
#include "mneme/serial.h"

/* f098cffb-eba0-407a-930d-63d9d357c5bd */
#define CONSOLE_UUID UUID_INIT(0xf098cffb, 0xeba0, 0x407a, 0x930d, 0x63d9d357c5bdull)
#define CONSOLE_TYPE SERIAL_TYPE

/* Gets the console port: like serial_get_port. */
int console_get_port(uint64_t timeout_ns, struct bbq **rx, struct bbq **tx);

#endif
