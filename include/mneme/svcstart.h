/*
 * svcstart.h: starting the configured services, on any platform.
 *
 * A platform decodes its configuration (config.h) and calls svcstart_run()
 * from its first task. The portable services (sermux and its port users,
 * keyboard mux, tracing, status) are started here, in the configuration's
 * order, which tools/mkconfig.py made a dependency order; the services a
 * platform provides itself (the serial port driver) and those built in
 * other parts (Forth shells) are started through hooks. Then the
 * userspace bridge: on sermux port 4 when the mux is enabled, else on the
 * bare serial port.
 *
 * The serial mux reads nothing from the serial line until start-up is
 * done (svcstart_done), so the host's first bytes for a configured port
 * (a shell's, the bridge's) wait for its user instead of arriving before
 * the port is open and being dropped.
 */
#ifndef MNEME_SVCSTART_H
#define MNEME_SVCSTART_H

#include <stddef.h>
#include <stdint.h>
#include "mneme/config.h"

struct svcstart_hooks {
  /* Starts the platform's serial port service (NULL: there is none). */
  int (*serial)(void *arg);
  /* Starts Forth shells on these sermux ports (NULL: not built in). */
  int (*forth_shells)(const uint16_t *ports, size_t n, void *arg);
  void *arg;
  /* Starts the network service with its [services.net] settings (NULL:
   * not built in; net/ provides net_svcstart). */
  int (*net)(const struct mn_config_service *s, void *arg);
};

/*
 * Starts every service of c in order and then the userspace bridge, then
 * calls svcstart_done. A service that fails is logged (klog) and
 * skipped. Returns how many failed to start.
 */
int svcstart_run(const struct mn_config *c, const struct svcstart_hooks *h);

/* Starts one configured service. Returns 0, MN_ENOTSUP (needs a hook
 * that is missing), or the service's start errors. */
int svcstart_one(const struct mn_config *c, const struct mn_config_service *s,
                 const struct svcstart_hooks *h);

/* Start-up is over: lets the serial mux read its input. A platform that
 * starts services one by one with svcstart_one calls it after the last. */
void svcstart_done(void);

#endif
