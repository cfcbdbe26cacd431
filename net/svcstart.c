/*
 * svcstart.c: the network service as svcstart starts it (svcstart.h):
 * [services.net] settings -> net_start, then the Forth words.
 *
 * Interface: net_svcstart.
 */
#include "mneme/config.h"
#include "mneme/net.h"

int net_words_install(void);   /* words.c */
/* The http service and its words (http/service.c, http/words.c): HTTP
 * and HTTPS need the network, so they start with it. */
int http_start(void);
int http_words_install(void);


/* The svcstart hook: [services.net] settings -> net_start. */
int
net_svcstart(const struct mn_config_service *s, void *arg)
{
  (void)arg;
  struct net_config c = { 0 };
  c.dhcp = s->u.net.dhcp;
  c.ip = s->u.net.address;
  c.netmask = s->u.net.netmask;
  c.gateway = s->u.net.gateway;
  c.ndns = s->u.net.ndns;
  c.dns[0] = s->u.net.dns[0];
  c.dns[1] = s->u.net.dns[1];
  c.dns_port = s->u.net.dns_port;
  int err = net_start(&c);
  if (!err)
    err = net_words_install();
  if (!err)
    err = http_start();
  if (!err)
    err = http_words_install();
  return err;
}
