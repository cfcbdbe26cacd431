/*
 * serial.c: client side of the serial port service.
 *
 * Interface: serial_get_port.
 */
#include "mneme/err.h"
#include "mneme/serial.h"

int
serial_get_port(uint64_t timeout_ns, struct bbq **rx, struct bbq **tx)
{
  static const struct svc_type type = SERIAL_TYPE;
  struct svc_client c;
  int err = svc_connect(&(struct uuid)SERIAL_UUID, &type, 0, 0, timeout_ns, &c);
  if (err)
    return err;
  struct serial_req req = { SERIAL_GET_PORT };
  struct serial_resp resp;
  struct serial_err e;
  err = svc_call(&c, &req, &resp, &e, timeout_ns);
  svc_disconnect(&c);
  if (err == MN_ESERVICE)
    return MN_EBUSY;
  if (err)
    return err;
  *rx = resp.rx;
  *tx = resp.tx;
  return 0;
}
