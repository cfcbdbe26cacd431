/*
 * http_posix.c: http_request (mneme/http.h's client contract) over POSIX
 * sockets, plain HTTP only, for host-side tests and benchmarks of its
 * users (llm-remote) against servers the tests start on this machine. The
 * kernel's own client (network service, TLS) is http/'s; this one only
 * lets a hosted kernel-in-a-process reach 127.0.0.1.
 *
 * It runs in the calling kernel task: non-blocking socket, poll() for at
 * most 1 ms at a time, a yield between polls and after each piece of
 * body handed over, so the other tasks (the reader of the ring) run. The
 * response is parsed by http_response (http-parser), headers through the
 * parser's own callbacks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mneme/err.h"
#include "mneme/http.h"
#include "mneme/ktime.h"
#include "mneme/task.h"

struct conn {
  http_response r;           /* first: the parser's data points here */
  const struct http_client_request *req;
  struct http_client_result *res;
  char hname[64];
  size_t hname_len;
  int in_value, stopped, status_sent;
  char hvalue[256];
  size_t hvalue_len;
};

static int
flush_header(struct conn *c)
{
  int rc = 0;
  if (c->in_value && c->req->on_header)
    rc = c->req->on_header(c->req->ctx, c->hname, c->hname_len, c->hvalue, c->hvalue_len);
  c->in_value = 0;
  c->hname_len = c->hvalue_len = 0;
  return rc;
}

static int
send_status(struct conn *c)
{
  if (c->status_sent)
    return 0;
  c->status_sent = 1;
  c->res->status = (int)c->r.p.status_code;
  if (c->req->on_status && c->req->on_status(c->req->ctx, (int)c->r.p.status_code))
    return c->stopped = 1;
  return 0;
}

static int
on_hfield(http_parser *p, const char *at, size_t len)
{
  struct conn *c = p->data;
  if (send_status(c))
    return 1;
  if (c->in_value && flush_header(c))
    return c->stopped = 1;
  size_t n = len < sizeof c->hname - c->hname_len ? len : sizeof c->hname - c->hname_len;
  memcpy(c->hname + c->hname_len, at, n);
  c->hname_len += n;
  return 0;
}

static int
on_hvalue(http_parser *p, const char *at, size_t len)
{
  struct conn *c = p->data;
  c->in_value = 1;
  size_t n = len < sizeof c->hvalue - c->hvalue_len ? len : sizeof c->hvalue - c->hvalue_len;
  memcpy(c->hvalue + c->hvalue_len, at, n);
  c->hvalue_len += n;
  return 0;
}

static int (*orig_headers_complete)(http_parser *);

static int
on_hdone(http_parser *p)
{
  struct conn *c = p->data;
  if (send_status(c) || flush_header(c)) {
    c->stopped = 1;
    return 1;
  }
  return orig_headers_complete(p);
}

static void
on_body(void *ctx, const char *data, size_t len)
{
  struct conn *c = ctx;
  if (c->stopped)
    return;
  c->res->body_bytes += len;
  if (c->req->on_body && c->req->on_body(c->req->ctx, data, len))
    c->stopped = 1;
}

static int
fail(struct http_client_result *res, int fd, int rc, const char *why)
{
  if (fd >= 0)
    close(fd);
  snprintf(res->error, sizeof res->error, "%s", why);
  return rc;
}

int
http_request(const struct http_client_request *req, struct http_client_result *res)
{
  memset(res, 0, sizeof *res);
  struct http_url u;
  const char *why = NULL;
  if (http_url_parse(req->url, req->url_len, &u, &why))
    return fail(res, -1, MN_EINVAL, why);
  if (u.https)
    return fail(res, -1, MN_ENOTSUP, "https is not in the host test client");
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(u.port) };
  if (inet_pton(AF_INET, u.host, &sa.sin_addr) != 1)
    return fail(res, -1, MN_EINVAL, "host is not an IPv4 address");
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return fail(res, -1, MN_EIO, "socket");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) && errno != EINPROGRESS)
    return fail(res, fd, MN_ECONNRESET, "connection refused");
  /* the request */
  size_t cap = 1024 + strlen(u.path) + strlen(u.host) + (req->headers ? strlen(req->headers) : 0) +
               req->body_len;
  char *msg = malloc(cap);
  if (!msg)
    return fail(res, fd, MN_ENOMEM, "no memory");
  int hl = snprintf(msg, cap, "%s %s HTTP/1.1\r\nHost: %s:%u\r\nConnection: close\r\n%s",
                    req->method, u.path, u.host, u.port, req->headers ? req->headers : "");
  if (req->body)
    hl += snprintf(msg + hl, cap - (size_t)hl, "Content-Length: %zu\r\n", req->body_len);
  hl += snprintf(msg + hl, cap - (size_t)hl, "\r\n");
  if (req->body_len)
    memcpy(msg + hl, req->body, req->body_len);
  size_t total = (size_t)hl + req->body_len, sent = 0;
  uint64_t rto = req->read_timeout_ns ? req->read_timeout_ns : MN_SEC(60);
  uint64_t deadline = ktime_now() + (req->connect_timeout_ns ? req->connect_timeout_ns : MN_SEC(15));
  while (sent < total) {
    ssize_t w = send(fd, msg + sent, total - sent, MSG_NOSIGNAL);
    if (w > 0) {
      sent += (size_t)w;
      continue;
    }
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN) {
      free(msg);
      return fail(res, fd, MN_ECONNRESET, "connection refused");
    }
    if (ktime_now() > deadline) {
      free(msg);
      return fail(res, fd, MN_ETIMEDOUT, "connect timed out");
    }
    struct pollfd pf = { fd, POLLOUT, 0 };
    poll(&pf, 1, 1);
    task_yield();
  }
  free(msg);
  struct conn c;
  memset(&c, 0, sizeof c);
  c.req = req;
  c.res = res;
  http_response_init(&c.r, on_body, &c);
  c.r.p.data = &c; /* http_response is the first member */
  c.r.s.on_header_field = on_hfield;
  c.r.s.on_header_value = on_hvalue;
  orig_headers_complete = c.r.s.on_headers_complete;
  c.r.s.on_headers_complete = on_hdone;
  char buf[4096];
  uint64_t last = ktime_now();
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      last = ktime_now();
      if (http_response_feed(&c.r, buf, (size_t)n) && !c.stopped)
        return fail(res, fd, MN_EPROTO, c.r.error ? c.r.error : "bad response");
      if (c.stopped)
        return fail(res, fd, MN_ECANCELED, "canceled");
      if (c.r.complete)
        break;
      task_yield();
      continue;
    }
    if (n == 0) {
      if (http_response_eof(&c.r))
        return fail(res, fd, c.r.status ? MN_ECONNRESET : MN_EPROTO,
                    c.r.status ? "connection reset by peer" : "no response");
      break;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return fail(res, fd, MN_ECONNRESET, "connection reset by peer");
    if (ktime_now() - last > rto)
      return fail(res, fd, MN_ETIMEDOUT, "timed out");
    struct pollfd pf = { fd, POLLIN, 0 };
    poll(&pf, 1, 1);
    task_yield();
  }
  close(fd);
  res->status = c.r.status;
  return 0;
}

int
http_url_parse(const char *url, size_t len, struct http_url *out, const char **why)
{
  memset(out, 0, sizeof *out);
  char tmp[HTTP_URL_PATH_MAX + HTTP_URL_HOST_MAX + 16];
  if (len >= sizeof tmp) {
    *why = "URL too long";
    return MN_EINVAL;
  }
  memcpy(tmp, url, len);
  tmp[len] = 0;
  const char *p = tmp;
  if (!strncmp(p, "http://", 7)) {
    p += 7;
    out->port = 80;
  } else if (!strncmp(p, "https://", 8)) {
    p += 8;
    out->https = 1;
    out->port = 443;
  } else {
    *why = "not http or https";
    return MN_EINVAL;
  }
  size_t h = strcspn(p, ":/");
  if (!h || h > HTTP_URL_HOST_MAX) {
    *why = "bad host";
    return MN_EINVAL;
  }
  memcpy(out->host, p, h);
  p += h;
  if (*p == ':') {
    out->port = (uint16_t)strtoul(p + 1, (char **)&p, 10);
  }
  snprintf(out->path, sizeof out->path, "%s", *p ? p : "/");
  return 0;
}

void
http_client_reset(void)
{
}
