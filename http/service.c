/*
 * service.c: the http service (HTTP_UUID, kernel-only) and the client
 * over the network service (include/mneme/http.h, docs/http.md).
 *
 * Interface: http_start, http_stream_*.
 *
 * The transport of http/client.c in the kernel (http/io.h): net.h TCP
 * connections, ktime, the time service (wallclock_now) and the entropy
 * service (entropy_get), kmalloc. The service task takes requests (a
 * stream: the copied request, a body ring, the result) and runs each in
 * a worker task with a deep stack (TLS); the body goes into the stream's
 * ring as it is decoded.
 */
#include <string.h>
#include "io.h"
#include "mneme/bbq.h"
#include "mneme/entropy.h"
#include "mneme/err.h"
#include "mneme/http.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/net.h"
#include "mneme/registry.h"
#include "mneme/task.h"
#include "mneme/wallclock.h"

#define WORKER_STACK (96u * 1024u)   /* BearSSL's RSA/EC code is deep */
#define WORKERS_MAX 4
#define RING_SIZE (64u * 1024u)
#define WRITE_WAIT MN_SEC(300)       /* a reader that stops reading */

/* ---- the transport ---------------------------------------------------- */

static int
n_connect(const char *host, uint16_t port, uint64_t timeout_ns, void **conn)
{
  uint64_t deadline = ktime_deadline(timeout_ns);
  int err = net_wait_up(timeout_ns);   /* a request right after boot waits for DHCP */
  uint64_t now = ktime_now();
  if (!err && now >= deadline)
    err = MN_ETIMEDOUT;
  if (err)
    return err == MN_ETIMEDOUT ? MN_ENETDOWN : err;
  return net_tcp_connect(host, strlen(host), port, deadline - now, (struct net_conn **)conn);
}

static int
n_read(void *c, void *buf, size_t cap, uint64_t timeout_ns, size_t *got)
{
  return net_tcp_read(c, buf, cap, timeout_ns, got);
}

static int
n_write(void *c, const void *d, size_t len, uint64_t timeout_ns)
{
  return net_tcp_write(c, d, len, timeout_ns);
}

static void
n_close(void *c)
{
  net_tcp_close(c);
}

static int
n_time(int64_t *s)
{
  return wallclock_now(s);
}

static int
n_random(void *b, size_t n, uint64_t timeout_ns)
{
  return entropy_get(b, n, timeout_ns);
}

static const struct http_io net_io = {
  n_connect, n_read, n_write, n_close, ktime_now, n_time, n_random, kmalloc, kfree,
};

/* ---- streams ---------------------------------------------------------- */

struct http_stream {
  int refs;                     /* caller + worker; cooperative tasks: no lock */
  int done;
  int32_t err;
  volatile int status;
  struct bbq ring;
  struct http_client_request req;
  struct http_client_result res;
  char strings[];               /* method, url, headers, body */
};

struct http_svc_req {
  struct http_stream *s;
};
struct http_svc_resp {
  int32_t ok;
};
struct http_svc_err {
  int32_t code;
};

#define HTTP_TYPE SVC_TYPE(struct http_svc_req, struct http_svc_resp, struct http_svc_err, \
                           struct svc_none)

static unsigned workers;

static void
stream_drop(struct http_stream *s)
{
  if (--s->refs == 0) {
    bbq_destroy(&s->ring);
    kfree(s);
  }
}

static int
w_status(void *ctx, int status)
{
  ((struct http_stream *)ctx)->status = status;
  return 0;
}

static int
w_body(void *ctx, const char *d, size_t n)
{
  struct http_stream *s = ctx;
  return bbq_write_all(&s->ring, d, n, WRITE_WAIT) ? 1 : 0;
}

static int
worker(void *arg)
{
  struct http_stream *s = arg;
  s->err = http_request(&s->req, &s->res);
  s->done = 1;
  bbq_close(&s->ring);
  stream_drop(s);
  workers--;
  return 0;
}

static int
server(void *arg)
{
  struct svc_server *srv = arg;
  SVC_MSG_BUF(msg, sizeof(struct http_svc_req));
  for (;;) {
    int err = svc_recv(srv, msg, MN_FOREVER);
    if (err == MN_ECLOSED || err == MN_ECANCELED)
      return 0;
    if (err || msg->env.kind != SVC_MSG_REQUEST)
      continue;
    struct http_stream *s = ((struct http_svc_req *)(void *)msg->body)->s;
    struct http_svc_err e = { 0 };
    if (workers >= WORKERS_MAX) {
      e.code = MN_EBUSY;
    } else {
      s->refs++;
      workers++;
      e.code = task_spawn("http-req", worker, s, WORKER_STACK, NULL);
      if (e.code) {
        s->refs--;
        workers--;
      }
    }
    if (e.code)
      svc_reply_err(srv, &msg->env, &e);
    else
      svc_reply_ok(srv, &msg->env, &(struct http_svc_resp){ 1 });
  }
}

int
http_start(void)
{
  static const struct svc_type type = HTTP_TYPE;
  struct svc_server *srv;
  int err = svc_register(&(struct uuid)HTTP_UUID, "http", &type, NULL, SVC_ACCEPT_ALL, 8, &srv);
  if (err)
    return err;
  http_client_set_io(&net_io);
  err = task_spawn("http", server, srv, 8192, NULL);
  if (err)
    svc_unregister(srv);
  return err;
}

static size_t
slen(const char *p, size_t n)
{
  return p ? n : 0;
}

int
http_stream_start(const struct http_client_request *req, struct http_stream **out)
{
  const char *method = req->method ? req->method : "GET";
  size_t ml = strlen(method) + 1, ul = req->url_len + 1;
  size_t hl = req->headers ? strlen(req->headers) + 1 : 0, bl = slen(req->body, req->body_len);
  if (!req->url)
    return MN_EINVAL;
  struct http_stream *s = kzalloc(sizeof *s + ml + ul + hl + bl);
  if (!s)
    return MN_ENOMEM;
  if (bbq_init(&s->ring, RING_SIZE)) {
    kfree(s);
    return MN_ENOMEM;
  }
  s->refs = 1;
  s->req = *req;
  char *p = s->strings;
  memcpy(p, method, ml);
  s->req.method = p;
  p += ml;
  memcpy(p, req->url, ul - 1);
  p[ul - 1] = 0;
  s->req.url = p;
  p += ul;
  if (hl) {
    memcpy(p, req->headers, hl);
    s->req.headers = p;
    p += hl;
  }
  if (req->body) {
    memcpy(p, req->body, bl);
    s->req.body = p;
  }
  s->req.on_status = w_status;
  s->req.on_header = NULL;
  s->req.on_body = w_body;
  s->req.ctx = s;

  static const struct svc_type type = HTTP_TYPE;
  struct svc_client c;
  struct http_svc_resp r;
  struct http_svc_err e = { 0 };
  int err = svc_connect(&(struct uuid)HTTP_UUID, &type, NULL, NULL, 0, &c);
  if (err) {
    stream_drop(s);
    return err == MN_ENOENT || err == MN_ETIMEDOUT ? MN_ENETDOWN : err;
  }
  err = svc_call(&c, &(struct http_svc_req){ s }, &r, &e, MN_SEC(5));
  svc_disconnect(&c);
  if (err) {
    stream_drop(s);
    return err == MN_ESERVICE ? e.code : err;
  }
  *out = s;
  return 0;
}

int
http_stream_status(const struct http_stream *s)
{
  return s->status;
}

struct bbq *
http_stream_ring(struct http_stream *s)
{
  return &s->ring;
}

int
http_stream_read(struct http_stream *s, void *buf, size_t cap, uint64_t timeout_ns, size_t *got)
{
  const uint8_t *g;
  size_t n;
  *got = 0;
  int err = bbq_read_grant(&s->ring, timeout_ns, &g, &n);
  if (err == MN_ECLOSED)
    return 0;
  if (err)
    return err;
  if (n > cap)
    n = cap;
  memcpy(buf, g, n);
  bbq_release(&s->ring, n);
  *got = n;
  return 0;
}

int
http_stream_end(struct http_stream *s, struct http_client_result *res)
{
  int err = s->done ? s->err : MN_ECANCELED;
  if (res) {
    if (s->done) {
      *res = s->res;
    } else {
      memset(res, 0, sizeof *res);
      memcpy(res->error, "stopped by the caller", 22);
    }
  }
  bbq_close(&s->ring);          /* a running worker stops at its next write */
  stream_drop(s);
  return err;
}
