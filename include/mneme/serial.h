/*
 * serial.h: the serial port service (mnemOS's "simple serial").
 *
 * One bidirectional byte port. GetPort hands the caller the two byte
 * rings of the port: rx (bytes from the line; the client reads) and tx
 * (bytes to the line; the client writes). Only one client may hold the
 * port: a second GetPort gets ALREADY_ASSIGNED. Kernel-only (the response
 * carries pointers). A platform driver provides it: the hosted platform
 * over stdin/stdout or TCP, x86_64 over the 16550 UART.
 */
#ifndef MNEME_SERIAL_H
#define MNEME_SERIAL_H

#include "mneme/registry.h"

#define SERIAL_UUID UUID_INIT(0xf06aac01, 0x2773, 0x4266, 0x8681, 0x583ffe756554ull)

enum serial_req_kind { SERIAL_GET_PORT = 0 };

struct serial_req {
  uint8_t kind;
};

struct serial_resp {
  struct bbq *rx;   /* from the line: the client reads */
  struct bbq *tx;   /* to the line: the client writes */
};

enum serial_err_kind { SERIAL_ALREADY_ASSIGNED = 0 };

struct serial_err {
  uint8_t kind;
};

#define SERIAL_TYPE SVC_TYPE(struct serial_req, struct serial_resp, \
                             struct serial_err, struct svc_none)

/* Connects and gets the port. Returns 0, MN_EBUSY (already assigned), or
 * the errors of svc_connect/svc_call. */
int serial_get_port(uint64_t timeout_ns, struct bbq **rx, struct bbq **tx);

#endif
