/*
 * registry_impl.h: registry internals shared by registry.c and
 * userspace.c. Not a public header.
 */
#ifndef MNEME_REGISTRY_IMPL_H
#define MNEME_REGISTRY_IMPL_H

#include "mneme/list.h"
#include "mneme/registry.h"
#include "mneme/waitq.h"

struct svc_server {
  struct list node;            /* in reg.services */
  struct uuid id;
  char name[24];
  struct svc_type type;
  uint64_t fingerprint;
  const struct svc_codec *codec;
  unsigned flags;
  uint32_t service_id, next_client, clients;
  struct list client_list;     /* struct svc_client.node, connected ones */
  struct kchannel queue;       /* struct svc_msg slots of msg_size */
  size_t msg_size;
  void *scratch;               /* req_size bytes: userspace decode target */
  uint64_t requests, replies_lost;
  int dead;                    /* unregistered, kept for its clients */
};

struct registry {
  struct list services;
  struct waitq changed;        /* woken on every registration */
  uint32_t next_id;
};

extern struct registry reg;

struct svc_server *svc_find(const struct uuid *id);
int svc_user_reply(struct svc_server *s, const struct svc_envelope *env,
                   int status, const void *body);
/* Tells a userspace caller its queued request will never be served. */
void svc_user_unserved(const struct svc_envelope *env);

#endif
