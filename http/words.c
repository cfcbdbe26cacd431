/*
 * words.c: the HTTP words of the Forth VMs (docs/http.md).
 *
 * Interface: http_words_install.
 *
 *   HTTP-GET ( c-addr u -- status )  GET the URL through the http service,
 *                                    printing the body as it arrives; on
 *                                    failure prints the reason ("TLS:
 *                                    certificate expired on 2021-01-01",
 *                                    "connect to ... timed out")
 *                                    and THROWs FT_E_MN(err)
 *   TLS-TRUST ( c-addr u -- n )      add the CA certificates in the PEM
 *                                    text to the trust store (a private
 *                                    CA); n added, or prints why and
 *                                    THROWs
 *   TLS-INFO ( -- )                  the last HTTPS connection: version,
 *                                    suite, curve, ALPN, resumed, AES-NI,
 *                                    the server's subject and expiry, and
 *                                    whether the connection was a kept
 *                                    alive one
 */
#include <string.h>
#include "mneme/err.h"
#include "mneme/forth_task.h"
#include "mneme/http.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/tls.h"

#define URL_MAX 2300

static char last_tls[160], last_peer[192], last_url[96];
static int last_reused;

static void
say(struct forth_task *ft, const char *a, const char *b)
{
  forth_task_out(ft, a, strlen(a));
  if (b)
    forth_task_out(ft, b, strlen(b));
}

static int
w_http_get(forth_vm *vm, void *ctx)
{
  (void)ctx;
  struct forth_task *ft = forth_host_ctx(vm);
  forth_cell a, u, x;
  if (forth_depth(vm) < 2)
    return -4;
  forth_peek(vm, 1, &a);
  forth_peek(vm, 0, &u);
  if (u <= 0 || u > URL_MAX)
    return -24;
  const char *url = forth_mem(vm, a, (size_t)u);
  if (!url)
    return -9;
  struct http_client_request req = { .method = "GET", .url = url, .url_len = (size_t)u,
                                     .max_redirects = -1 };
  struct http_stream *s;
  int err = http_stream_start(&req, &s);
  if (err) {
    say(ft, "HTTP-GET: ", mn_strerror(err));
    say(ft, "\n", NULL);
    return FT_E_MN(err);
  }
  char buf[512];
  size_t n;
  /* the worker's own timeouts end the stream; this one only guards */
  while (!(err = http_stream_read(s, buf, sizeof buf, MN_SEC(600), &n)) && n)
    forth_task_out(ft, buf, n);
  struct http_client_result res;
  int rerr = http_stream_end(s, &res);
  if (!err)
    err = rerr;
  if (res.tls[0]) {
    memcpy(last_tls, res.tls, sizeof last_tls);
    memcpy(last_peer, res.peer, sizeof last_peer);
    last_reused = res.reused;
    size_t l = (size_t)u < sizeof last_url - 1 ? (size_t)u : sizeof last_url - 1;
    memcpy(last_url, url, l);
    last_url[l] = 0;
  }
  if (err) {
    say(ft, "\nHTTP-GET: ", res.error[0] ? res.error : mn_strerror(err));
    say(ft, "\n", NULL);
    return FT_E_MN(err);
  }
  forth_pop(vm, &x);
  forth_pop(vm, &x);
  return forth_push(vm, res.status);
}

static int
w_tls_info(forth_vm *vm, void *ctx)
{
  (void)ctx;
  struct forth_task *ft = forth_host_ctx(vm);
  if (!last_tls[0]) {
    say(ft, "no HTTPS connection yet\n", NULL);
    return 0;
  }
  say(ft, last_url, "\n  ");
  say(ft, last_tls, "\n  server: ");
  say(ft, last_peer[0] ? last_peer : "(not known)", "\n");
  say(ft, last_reused ? "  connection: kept alive (reused)\n" : "  connection: new\n", NULL);
  return 0;
}

static int
w_tls_trust(forth_vm *vm, void *ctx)
{
  (void)ctx;
  struct forth_task *ft = forth_host_ctx(vm);
  forth_cell a, u, x;
  if (forth_depth(vm) < 2)
    return -4;
  forth_peek(vm, 1, &a);
  forth_peek(vm, 0, &u);
  if (u <= 0 || u > 65536)
    return -24;
  const char *pem = forth_mem(vm, a, (size_t)u);
  if (!pem)
    return -9;
  const char *why = "";
  int n = tls_anchors_add_pem(pem, (size_t)u, &why);
  if (n < 0) {
    say(ft, "TLS-TRUST: ", why);
    say(ft, "\n", NULL);
    return FT_E_MN(MN_EINVAL);
  }
  forth_pop(vm, &x);
  forth_pop(vm, &x);
  return forth_push(vm, n);
}

static const struct forth_task_word words[] = {
  { "TLS-TRUST", w_tls_trust },
  { "HTTP-GET", w_http_get },
  { "TLS-INFO", w_tls_info },
};

int http_words_install(void);

int
http_words_install(void)
{
  return forth_words_add(words, sizeof words / sizeof words[0]);
}
