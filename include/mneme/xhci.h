/*
 * xhci.h: the xHCI (USB 3) host controller driver, portable (usb/xhci.c;
 * docs/usb.md). Bound by pci_start to class 0x0C0330 functions; it
 * enumerates the devices on every root port (USB 2 and USB 3), drives
 * HID keyboards (boot protocol, or the report protocol for the layouts
 * include/mneme/usb.h understands) into the keyboard mux with key repeat,
 * and follows hot-plug.
 */
#ifndef MNEME_XHCI_H
#define MNEME_XHCI_H

#include <stddef.h>

#include "mneme/pci.h"

extern const struct pci_driver xhci_driver;

/*
 * Prints every controller, its connected ports and their devices, one
 * line each, with out(arg, text, len) (the Forth word USB). Returns the
 * number of controllers.
 */
int usb_print(void (*out)(void *arg, const char *s, size_t n), void *arg);

#endif
