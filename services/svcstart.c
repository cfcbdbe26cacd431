/*
 * svcstart.c: starts the configured services (see svcstart.h).
 *
 * Interface: svcstart_run, svcstart_one, svcstart_done.
 *
 * A service whose dependency did not start (failed, or not part of this
 * build) is skipped with a warning rather than left to time out. The mux
 * starts with its input held: svcstart_done releases it once every port
 * user has opened its port.
 */
#include "mneme/err.h"
#include "mneme/keyboard.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/serial.h"
#include "mneme/sermux.h"
#include "mneme/status.h"
#include "mneme/svcstart.h"
#include "mneme/trace.h"
#include "mneme/userbridge.h"

#define USERBRIDGE_MAX_FRAME 1024

int
svcstart_one(const struct mn_config *c, const struct mn_config_service *s,
             const struct svcstart_hooks *h)
{
  (void)c;
  switch (s->kind) {
  case MN_SVC_SERIAL:
    return h && h->serial ? h->serial(h->arg) : MN_ENOTSUP;
  case MN_SVC_SERMUX: {
    struct sermux_config mc = { s->u.sermux.ports, s->u.sermux.max_frame, 1 };
    return sermux_start(&mc, MN_SEC(1));
  }
  case MN_SVC_LOOPBACK:
    return sermux_loopback_start(s->u.loopback.port);
  case MN_SVC_HELLO:
    return sermux_hello_start(s->u.hello.port, s->u.hello.interval_ms,
                              s->u.hello.message.ptr, s->u.hello.message.len);
  case MN_SVC_PSEUDO_KEYBOARD:
    return pseudo_keyboard_start(s->u.pseudo_keyboard.port);
  case MN_SVC_KEYBOARD_MUX:
    return kbdmux_start();
  case MN_SVC_TRACING:
    return trace_start(s->u.tracing.port, s->u.tracing.max_level,
                       s->u.tracing.heartbeat_ms);
  case MN_SVC_STATUS:
    return status_start();
  case MN_SVC_FORTH_SHELLS:
    return h && h->forth_shells
           ? h->forth_shells(s->u.forth_shells.ports, s->u.forth_shells.nports, h->arg)
           : MN_ENOTSUP;
  case MN_SVC_NET:
    return h && h->net ? h->net(s, h->arg) : MN_ENOTSUP;
  default:
    return MN_ENOTSUP;
  }
}

/* Userspace requests: on sermux port 4, else on the bare serial port. */
static int
start_userbridge(const struct mn_config *c)
{
  if (mn_config_find(c, MN_SVC_SERMUX)) {
    struct sermux_port *p;
    int err = sermux_open(SERMUX_PORT_USERBRIDGE, 0, MN_SEC(1), &p);
    return err ? err : userbridge_start(&p->rx, &p->tx, USERBRIDGE_MAX_FRAME);
  }
  struct bbq *rx, *tx;
  int err = serial_get_port(MN_SEC(1), &rx, &tx);
  return err ? err : userbridge_start(rx, tx, USERBRIDGE_MAX_FRAME);
}

int
svcstart_run(const struct mn_config *c, const struct svcstart_hooks *h)
{
  int failed = 0;
  uint8_t up[MN_SVC_COUNT] = { 0 };
  for (size_t i = 0; i < c->nservices; i++) {
    const struct mn_config_service *s = &c->services[i];
    int missing = -1;
    for (unsigned d = 0; d < s->ndeps; d++)
      if (s->deps[d] >= MN_SVC_COUNT || !up[s->deps[d]])
        missing = s->deps[d];
    if (missing >= 0) {
      klog(LOG_WARN, "%s: not started: %s is not running", mn_service_name(s->kind),
           mn_service_name((enum mn_service_kind)missing));
      continue;
    }
    int err = svcstart_one(c, s, h);
    if (err == 0)
      up[s->kind] = 1;
    if (err == MN_ENOTSUP) {
      klog(LOG_INFO, "%s: not part of this build", mn_service_name(s->kind));
    } else if (err) {
      klog(LOG_ERROR, "%s: %s", mn_service_name(s->kind), mn_strerror(err));
      failed++;
    }
  }
  if (mn_config_find(c, MN_SVC_SERIAL) && h && h->serial) {
    int err = start_userbridge(c);
    if (err) {
      klog(LOG_ERROR, "userspace bridge: %s", mn_strerror(err));
      failed++;
    }
  }
  svcstart_done();
  return failed;
}

void
svcstart_done(void)
{
  sermux_release_input();
}
