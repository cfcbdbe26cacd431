/*
 * registry.c: the service registry and request/reply routing.
 *
 * Interface: svc_registry_init, svc_fingerprint, svc_register,
 * svc_unregister, svc_recv, svc_msg_size, svc_reply_ok, svc_reply_err,
 * svc_accept, svc_reject, svc_connect, svc_disconnect, svc_call, svc_send,
 * svc_reply_size, svc_list. The userspace path is in userspace.c.
 *
 * Services live in a list (there are few). Every message to a server goes
 * through its queue, a kchannel of fixed-size slots: an envelope followed
 * by the body (request or hello), sized at registration. A client's
 * oneshot holds one status byte and then the response or error.
 * Allocation happens at registration and connection, never per message.
 */
#include <stddef.h>
#include <string.h>
#include "mneme/err.h"
#include "mneme/ktime.h"
#include "mneme/kmem.h"
#include "mneme/registry.h"
#include "registry_impl.h"

struct registry reg;

void
svc_registry_init(void)
{
  list_init(&reg.services);
  waitq_init(&reg.changed);
  reg.next_id = 1;
}

uint64_t
svc_fingerprint(const struct svc_type *t)
{
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char *p = t->names; *p; p++)
    h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
  size_t sizes[4] = { t->req_size, t->resp_size, t->err_size, t->hello_size };
  for (int i = 0; i < 4; i++)
    for (int b = 0; b < 8; b++)
      h = (h ^ ((sizes[i] >> (8 * b)) & 0xff)) * 0x100000001b3ull;
  return h;
}

struct svc_server *
svc_find(const struct uuid *id)
{
  for (struct list *l = reg.services.next; l != &reg.services; l = l->next) {
    struct svc_server *s = list_entry(l, struct svc_server, node);
    if (uuid_eq(&s->id, id))
      return s;
  }
  return 0;
}

static size_t
max3(size_t a, size_t b, size_t c)
{
  size_t m = a > b ? a : b;
  return m > c ? m : c;
}

size_t
svc_msg_size(const struct svc_server *s)
{
  return s->msg_size;
}

size_t
svc_reply_size(const struct svc_type *t)
{
  return offsetof(struct svc_reply, body) + (t->resp_size > t->err_size ? t->resp_size : t->err_size);
}

int
svc_register(const struct uuid *id, const char *name,
             const struct svc_type *type, const struct svc_codec *codec,
             unsigned flags, size_t depth, struct svc_server **out)
{
  if (!id || !type || !depth || (codec && (!codec->decode_req ||
      !codec->encode_resp || !codec->encode_err)))
    return MN_EINVAL;
  if (svc_find(id))
    return MN_EEXIST;
  struct svc_server *s = kzalloc(sizeof *s);
  if (!s)
    return MN_ENOMEM;
  s->msg_size = offsetof(struct svc_msg, body) +
                (type->req_size > type->hello_size ? type->req_size : type->hello_size);
  s->msg_size = (s->msg_size + 15) & ~(size_t)15;
  s->scratch = codec ? kmalloc(type->req_size) : 0;
  if ((codec && !s->scratch) || kchannel_init(&s->queue, s->msg_size, depth)) {
    kfree(s->scratch);
    kfree(s);
    return MN_ENOMEM;
  }
  s->id = *id;
  for (size_t i = 0; name && name[i] && i < sizeof s->name - 1; i++)
    s->name[i] = name[i];
  s->type = *type;
  s->fingerprint = svc_fingerprint(type);
  s->codec = codec;
  s->flags = flags;
  s->service_id = reg.next_id++;
  list_init(&s->client_list);
  list_push_back(&reg.services, &s->node);
  waitq_wake_all(&reg.changed);
  *out = s;
  return 0;
}

/*
 * Whether the client that sent env is still connected: its reply address
 * (a oneshot in its struct svc_client, a kchannel it owns) is only valid
 * while it is. Clients are few; the newest is checked first.
 */
static int
client_connected(const struct svc_server *s, uint32_t client_id)
{
  for (const struct list *l = s->client_list.prev; l != &s->client_list; l = l->prev)
    if (list_entry(l, const struct svc_client, node)->client_id == client_id)
      return 1;
  return 0;
}

/* Answers a queued message that will never be served: MN_ECLOSED. */
static void
fail_unserved(const struct svc_server *s, const struct svc_envelope *env)
{
  const struct svc_reply_to *r = &env->reply;
  switch (r->kind) {
  case REPLY_ONESHOT:
    if (!client_connected(s, env->client_id))
      break;
    if (r->u.os->state == ONESHOT_ARMED && r->u.os->ticket == r->ticket)
      oneshot_close(r->u.os); /* its svc_call/svc_connect returns MN_ECLOSED */
    break;
  case REPLY_KCHANNEL: {
    if (!client_connected(s, env->client_id))
      break;
    struct svc_reply h = { env->service_id, env->client_id, env->request_id, MN_ECLOSED };
    kchannel_try_send_parts(r->u.ch, &h, sizeof h, offsetof(struct svc_reply, body), 0, 0);
    break;
  }
  case REPLY_USER:
    svc_user_unserved(env);
    break;
  default:
    break;
  }
}

void
svc_unregister(struct svc_server *s)
{
  list_remove(&s->node);
  kchannel_close(&s->queue);
  /* Messages still queued will never be served: their callers would wait
   * forever, so each gets a "closed" answer now. */
  struct kchannel *q = &s->queue;
  while (q->count) {
    struct svc_envelope env;
    memcpy(&env, q->buf + q->head * q->msg_size, sizeof env);
    if (++q->head == q->cap)
      q->head = 0;
    q->count--;
    fail_unserved(s, &env);
  }
  /* Clients still hold s: it is kept (closed) until the last disconnects. */
  s->dead = 1;
  if (s->clients == 0) {
    kchannel_destroy(&s->queue);
    kfree(s->scratch);
    kfree(s);
  }
}

int
svc_recv(struct svc_server *s, struct svc_msg *msg, uint64_t timeout_ns)
{
  return kchannel_recv(&s->queue, msg, timeout_ns);
}

/* ---- replies ------------------------------------------------------------- */

static int
reply(struct svc_server *s, const struct svc_envelope *env, int status,
      const void *body, size_t blen)
{
  const struct svc_reply_to *r = &env->reply;
  int err;
  if (r->kind != REPLY_USER && !client_connected(s, env->client_id))
    return MN_ECANCELED; /* it disconnected: its memory may be reused */
  switch (r->kind) {
  case REPLY_ONESHOT: {
    uint8_t st = status == 0 ? 0 : 1;
    err = oneshot_send_parts(r->u.os, r->ticket, &st, 1, body, blen);
    break;
  }
  case REPLY_KCHANNEL: {
    struct svc_reply h = { env->service_id, env->client_id, env->request_id, status };
    err = kchannel_try_send_parts(r->u.ch, &h, sizeof h,
                                  offsetof(struct svc_reply, body), body, blen);
    break;
  }
  case REPLY_USER:
    err = svc_user_reply(s, env, status, body);
    break;
  default:
    err = MN_EINVAL;
  }
  if (err && err != MN_ECANCELED)
    s->replies_lost++;
  return err;
}

int
svc_reply_ok(struct svc_server *s, const struct svc_envelope *env, const void *resp)
{
  return reply(s, env, 0, resp, s->type.resp_size);
}

int
svc_reply_err(struct svc_server *s, const struct svc_envelope *env, const void *err)
{
  return reply(s, env, MN_ESERVICE, err, s->type.err_size);
}

int
svc_accept(struct svc_server *s, const struct svc_envelope *env)
{
  return reply(s, env, 0, 0, 0);
}

int
svc_reject(struct svc_server *s, const struct svc_envelope *env, const void *err)
{
  return reply(s, env, MN_ESERVICE, err, err ? s->type.err_size : 0);
}

/* ---- clients ------------------------------------------------------------- */

struct find_args {
  const struct uuid *id;
  struct svc_server **out;
};

static int
try_find(void *arg)
{
  struct find_args *a = arg;
  return (*a->out = svc_find(a->id)) != 0 ? 0 : MN_EAGAIN;
}

static int
wait_for_service(const struct uuid *id, uint64_t timeout_ns, struct svc_server **out)
{
  struct find_args a = { id, out };
  int err = waitq_retry(&reg.changed, try_find, &a, timeout_ns);
  return err == MN_ETIMEDOUT && timeout_ns == 0 ? MN_ENOENT : err;
}

/* Interprets the oneshot's status byte: 0 -> resp, 1 -> err. */
static int
take_reply(struct svc_client *c, void *resp, void *err)
{
  const uint8_t *b = c->reply.buf;
  size_t n = c->reply.len;
  if (n < 1)
    return MN_EINVAL;
  if (b[0] == 0) {
    if (resp && n - 1 == c->type.resp_size)
      memcpy(resp, b + 1, n - 1);
    return 0;
  }
  if (err && n - 1 == c->type.err_size)
    memcpy(err, b + 1, n - 1);
  return MN_ESERVICE;
}

int
svc_connect(const struct uuid *id, const struct svc_type *type,
            const void *hello, void *err, uint64_t timeout_ns,
            struct svc_client *c)
{
  struct svc_server *s;
  memset(c, 0, sizeof *c);
  int e = wait_for_service(id, timeout_ns, &s);
  if (e) /* MN_ENOENT, MN_ETIMEDOUT, MN_ECANCELED */
    return e;
  if (svc_fingerprint(type) != s->fingerprint)
    return MN_EMISMATCH;
  if (oneshot_init(&c->reply, 1 + max3(type->resp_size, type->err_size, 0)))
    return MN_ENOMEM;
  c->server = s;
  c->type = *type;
  c->service_id = s->service_id;
  c->client_id = ++s->next_client;
  s->clients++;
  list_push_back(&s->client_list, &c->node);
  if (s->flags & SVC_ACCEPT_ALL)
    return 0;
  struct svc_envelope env = { s->service_id, c->client_id, 0, SVC_MSG_HELLO,
                              { REPLY_ONESHOT, oneshot_arm(&c->reply), 0, { .os = &c->reply } } };
  e = kchannel_send_parts(&s->queue, &env, sizeof env, offsetof(struct svc_msg, body),
                          hello, hello ? type->hello_size : 0, timeout_ns);
  if (!e)
    e = oneshot_recv(&c->reply, 0, 0, timeout_ns);
  if (!e && take_reply(c, 0, err) != 0)
    e = MN_EREJECTED;
  if (e)
    svc_disconnect(c);
  return e;
}

void
svc_disconnect(struct svc_client *c)
{
  struct svc_server *s = c->server;
  if (!s)
    return;
  oneshot_destroy(&c->reply);
  list_remove(&c->node);
  c->server = 0;
  if (--s->clients == 0 && s->dead) {
    kchannel_destroy(&s->queue);
    kfree(s->scratch);
    kfree(s);
  }
}

int
svc_call(struct svc_client *c, const void *req, void *resp, void *err,
         uint64_t timeout_ns)
{
  struct svc_server *s = c->server;
  if (!s || s->dead)
    return MN_ECLOSED;
  struct svc_envelope env = { c->service_id, c->client_id, ++c->next_request,
                              SVC_MSG_REQUEST,
                              { REPLY_ONESHOT, oneshot_arm(&c->reply), 0, { .os = &c->reply } } };
  uint64_t deadline = ktime_deadline(timeout_ns);
  int e = kchannel_send_parts(&s->queue, &env, sizeof env,
                              offsetof(struct svc_msg, body), req,
                              c->type.req_size, timeout_ns);
  if (e)
    return e;
  s->requests++;
  uint64_t now = timeout_ns == MN_FOREVER ? 0 : ktime_now();
  e = oneshot_recv(&c->reply, 0, 0, timeout_ns == MN_FOREVER ? MN_FOREVER
                   : deadline > now ? deadline - now : 0);
  if (e)
    return e;
  return take_reply(c, resp, err);
}

int
svc_send(struct svc_client *c, const void *req, struct kchannel *ch,
         uint32_t *request_id, uint64_t timeout_ns)
{
  struct svc_server *s = c->server;
  if (!s || s->dead)
    return MN_ECLOSED;
  if (ch->msg_size < svc_reply_size(&c->type))
    return MN_EINVAL;
  struct svc_envelope env = { c->service_id, c->client_id, ++c->next_request,
                              SVC_MSG_REQUEST, { REPLY_KCHANNEL, 0, 0, { .ch = ch } } };
  if (request_id)
    *request_id = env.request_id;
  int e = kchannel_send_parts(&s->queue, &env, sizeof env,
                              offsetof(struct svc_msg, body), req,
                              c->type.req_size, timeout_ns);
  if (!e)
    s->requests++;
  return e;
}

size_t
svc_list(struct svc_info *info, size_t max)
{
  size_t n = 0;
  for (struct list *l = reg.services.next; l != &reg.services; l = l->next, n++) {
    if (n >= max)
      continue;
    struct svc_server *s = list_entry(l, struct svc_server, node);
    info[n].id = s->id;
    memcpy(info[n].name, s->name, sizeof info[n].name);
    info[n].user_visible = s->codec != 0;
    info[n].clients = s->clients;
    info[n].requests = s->requests;
    info[n].replies_lost = s->replies_lost;
    info[n].queued = kchannel_len(&s->queue);
  }
  return n;
}
