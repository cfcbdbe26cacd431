/*
 * console.h: the framebuffer console as a byte port service under
 * CONSOLE_UUID (platform/uefi/console_port.h: the serial port service's
 * type, GetPort hands out an rx and a tx ring, one client). tx text goes
 * to the framebuffer console (platform/uefi/fbcon.c, shared with x86_64); rx carries
 * the terminal bytes of key presses from the keyboard mux.
 */
#ifndef MNEME_A64_CONSOLE_H
#define MNEME_A64_CONSOLE_H

/* Registers the service and starts its tasks (after kernel_init); with
 * use_mux the console reads key presses from the keyboard mux. Returns
 * 0, MN_ENOMEM or an svc_register error. */
int a64_console_start(int use_mux);

#endif
