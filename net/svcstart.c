/*
 * svcstart.c: the network service as svcstart starts it (svcstart.h):
 * [services.net] settings (or the user's saved static address) ->
 * net_start, then the Forth words.
 *
 * Interface: net_svcstart.
 */
#include <string.h>

#include "mneme/config.h"
#include "mneme/kmem.h"
#include "mneme/log.h"
#include "mneme/net.h"
#include "mneme/settings.h"

/* The user's saved settings (chat/settings_store.c), when linked in. */
int settings_load(struct mn_settings *s) __attribute__((weak));

/* The saved network choice (the setup wizard's) overrides the
 * configuration's: a static address when net_dhcp is 0. */
static void
saved_network(struct net_config *c)
{
  if (!settings_load)
    return;
  struct mn_settings *s = kmalloc(sizeof *s);
  if (!s)
    return;
  if (settings_load(s) == 0 && !s->net_dhcp && s->net_ip) {
    c->dhcp = 0;
    c->ip = s->net_ip;
    c->netmask = s->net_netmask ? s->net_netmask : 0xffffff00u;
    c->gateway = s->net_gateway;
    if (s->net_dns) {
      c->ndns = 1;
      c->dns[0] = s->net_dns;
      c->dns_port = 0;
    }
    klog(LOG_INFO, "net: the saved settings' static address %u.%u.%u.%u, gateway %u.%u.%u.%u",
         c->ip >> 24, c->ip >> 16 & 255, c->ip >> 8 & 255, c->ip & 255, c->gateway >> 24,
         c->gateway >> 16 & 255, c->gateway >> 8 & 255, c->gateway & 255);
  }
  for (size_t i = 0; i < sizeof *s; i++)
    ((volatile char *)s)[i] = 0;
  kfree(s);
}

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
  saved_network(&c);
  int err = net_start(&c);
  if (!err)
    err = net_words_install();
  if (!err)
    err = http_start();
  if (!err)
    err = http_words_install();
  return err;
}
