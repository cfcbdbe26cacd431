/*
 * port.h: the server side shared by the platform's byte port services
 * (serial_svc.c for COM1, console_svc.c for framebuffer + keyboard):
 * the service type of include/mneme/serial.h, two rings, one client.
 */
#ifndef MNEME_X86_PORT_H
#define MNEME_X86_PORT_H

#include <stddef.h>

#include "mneme/bbq.h"
#include "mneme/serial.h"

struct uefi_port {
  struct bbq rx, tx;   /* rx: to the client; tx: from the client */
  int assigned;
  struct svc_server *srv;
};

/*
 * Creates the rings (ring bytes each), registers the service id under
 * name and starts its server task, which hands the rings to the first
 * GetPort and ALREADY_ASSIGNED to later ones. Returns 0, MN_ENOMEM or an
 * svc_register error.
 */
int uefi_port_start(struct uefi_port *p, const struct uuid *id, const char *name,
                   size_t ring);

#endif
