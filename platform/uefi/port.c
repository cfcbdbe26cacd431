/*
 * port.c: a byte port service's server task (see port.h).
 *
 * Interface: uefi_port_start.
 */
#include "port.h"

#include "mneme/err.h"
#include "mneme/ktime.h"
#include "mneme/task.h"

static int server_task(void *arg) {
  struct uefi_port *p = arg;
  SVC_MSG_BUF(m, sizeof(struct serial_req));
  while (svc_recv(p->srv, m, MN_FOREVER) == 0) {
    if (p->assigned) {
      struct serial_err e = {SERIAL_ALREADY_ASSIGNED};
      svc_reply_err(p->srv, &m->env, &e);
    } else {
      struct serial_resp r = {&p->rx, &p->tx};
      if (svc_reply_ok(p->srv, &m->env, &r) == 0) p->assigned = 1;
    }
  }
  return 0;
}

int uefi_port_start(struct uefi_port *p, const struct uuid *id, const char *name,
                   size_t ring) {
  static const struct svc_type type = SERIAL_TYPE;
  if (bbq_init(&p->rx, ring) || bbq_init(&p->tx, ring)) return MN_ENOMEM;
  int err = svc_register(id, name, &type, 0, SVC_ACCEPT_ALL, 4, &p->srv);
  if (err) return err;
  return task_spawn(name, server_task, p, 0, 0) ? MN_ENOMEM : 0;
}
