/*
 * words.c: the network words of the Forth VMs (docs/net.md).
 *
 * Interface: net_words_install.
 *
 *   NET ( -- )                    the interface: address, lease, counters
 *   PING ( c-addr u -- ms | -1 )  one echo to a name or address; -1: no reply
 *   RESOLVE ( c-addr u -- )       prints the name's address, or the error
 *   NETSTAT ( -- )                connections and their states
 *   TCP-OPEN ( c-addr u port -- handle )  connect to a name or address
 *   TCP-WRITE ( c-addr u handle -- )      send all (waits for room)
 *   TCP-READ ( c-addr u handle -- n )     1..u bytes; 0 at the end
 *   TCP-CLOSE ( handle -- )
 *   TCP-LISTEN ( port -- listener )       accept connections on a port
 *   TCP-ACCEPT ( listener -- handle )     the next connection (waits)
 *   TCP-UNLISTEN ( listener -- )
 *
 * Errors THROW FT_E_MN(err), whose text is mn_strerror's ("connection
 * refused", "name not found", ...). Waiting words wait without holding
 * the CPU: TCP-READ returns FORTH_WAIT on the connection's rx ring, the
 * others wait in the network service's calls (TCP-ACCEPT in slices of
 * ACCEPT_SLICE, so a Ctrl-C between them interrupts it).
 */
#include <stdarg.h>
#include <string.h>
#include "mneme/err.h"
#include "mneme/forth_task.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/net.h"

#define OPEN_TIMEOUT MN_SEC(10)
#define PING_TIMEOUT MN_SEC(2)
#define RESOLVE_TIMEOUT MN_SEC(5)
#define WRITE_TIMEOUT MN_SEC(30)
#define ACCEPT_SLICE MN_MSEC(200)
#define MAX_HANDLES 64
#define MAX_LISTENERS 8

static struct net_conn *handles[MAX_HANDLES];
static struct net_listener *listeners[MAX_LISTENERS];

static void
say(forth_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(forth_vm *vm, const char *fmt, ...)
{
  char b[160];
  va_list ap;
  va_start(ap, fmt);
  int n = kvsnprintf(b, sizeof b, fmt, ap);
  va_end(ap);
  forth_task_out(forth_host_ctx(vm), b, n < (int)sizeof b ? (size_t)n : sizeof b - 1);
}

static int
args(forth_vm *vm, forth_cell *v, int n)
{
  if (forth_depth(vm) < n)
    return -4;
  for (int i = 0; i < n; i++)
    forth_peek(vm, n - 1 - i, &v[i]);
  return 0;
}

static void
drop(forth_vm *vm, int n)
{
  forth_cell x;
  while (n--)
    forth_pop(vm, &x);
}

/* The string argument at v[0], v[1]: 0, or a THROW code. */
static int
str(forth_vm *vm, const forth_cell *v, const char **s, size_t *len)
{
  if (v[1] <= 0 || v[1] > 255)
    return -24;
  *s = forth_mem(vm, v[0], (size_t)v[1]);
  *len = (size_t)v[1];
  return *s ? 0 : -9;
}

static struct net_conn *
conn_of(forth_cell h)
{
  return h >= 1 && h <= MAX_HANDLES ? handles[h - 1] : NULL;
}

static int
w_net(forth_vm *vm, void *ctx)
{
  (void)ctx;
  struct net_ifinfo f;
  char a[16], m[16], g[16], d0[16], d1[16];
  int err = net_info(&f);
  if (err)
    return FT_E_MN(err);
  if (!f.present) {
    say(vm, "no network interface\n");
    return 0;
  }
  net_ip4_format(f.ip, a);
  net_ip4_format(f.netmask, m);
  net_ip4_format(f.gateway, g);
  net_ip4_format(f.dns[0], d0);
  net_ip4_format(f.dns[1], d1);
  say(vm, "%s: %02x:%02x:%02x:%02x:%02x:%02x mtu %u link %s\n", f.name, f.mac[0],
      f.mac[1], f.mac[2], f.mac[3], f.mac[4], f.mac[5], f.mtu, f.link_up ? "up" : "down");
  if (f.bound)
    say(vm, "  inet %s netmask %s gateway %s (%s", a, m, g, f.dhcp ? "dhcp" : "static");
  else
    say(vm, "  no address yet (%s", f.dhcp ? "dhcp" : "static");
  if (f.lease_s)
    say(vm, ", lease %u s", (unsigned)f.lease_s);
  say(vm, ")\n  dns %s %s\n", d0, d1);
  say(vm, "  rx %llu packets %llu bytes, %llu dropped, %llu errors, %llu refused\n",
      (unsigned long long)f.rx_packets, (unsigned long long)f.rx_bytes,
      (unsigned long long)f.rx_dropped, (unsigned long long)f.rx_errors,
      (unsigned long long)f.bad_frames);
  say(vm, "  tx %llu packets %llu bytes, %llu dropped, %llu errors\n",
      (unsigned long long)f.tx_packets, (unsigned long long)f.tx_bytes,
      (unsigned long long)f.tx_dropped, (unsigned long long)f.tx_errors);
  say(vm, "  tcp %u open, %u listening, %u since boot; udp %u\n", (unsigned)f.tcp_open,
      (unsigned)f.tcp_listen, (unsigned)f.tcp_total, (unsigned)f.udp_open);
  return 0;
}

/* PING ( c-addr u -- ms | -1 ) and PING-US ( c-addr u -- us | -1 ): one
 * echo request, its round trip in whole milliseconds or microseconds. */
static int
ping_in(forth_vm *vm, uint64_t unit_ns)
{
  forth_cell v[2];
  const char *s;
  size_t len;
  net_ip4 ip;
  uint64_t rtt;
  int err = args(vm, v, 2);
  if (!err)
    err = str(vm, v, &s, &len);
  if (err)
    return err;
  err = net_resolve(s, len, RESOLVE_TIMEOUT, &ip);
  if (!err)
    err = net_ping(ip, PING_TIMEOUT, &rtt);
  if (err && err != MN_ETIMEDOUT)
    return FT_E_MN(err);
  drop(vm, 2);
  return forth_push(vm, err ? -1 : (forth_cell)(rtt / unit_ns));
}

static int
w_ping(forth_vm *vm, void *ctx)
{
  (void)ctx;
  return ping_in(vm, 1000000u);
}

static int
w_ping_us(forth_vm *vm, void *ctx)
{
  (void)ctx;
  return ping_in(vm, 1000u);
}

static int
w_resolve(forth_vm *vm, void *ctx)
{
  (void)ctx;
  forth_cell v[2];
  const char *s;
  size_t len;
  net_ip4 ip;
  char a[16];
  int err = args(vm, v, 2);
  if (!err)
    err = str(vm, v, &s, &len);
  if (err)
    return err;
  drop(vm, 2);
  err = net_resolve(s, len, RESOLVE_TIMEOUT, &ip);
  if (err) {
    say(vm, "%.*s: %s\n", (int)len, s, mn_strerror(err));
  } else {
    net_ip4_format(ip, a);
    say(vm, "%.*s: %s\n", (int)len, s, a);
  }
  return 0;
}

static int
w_netstat(forth_vm *vm, void *ctx)
{
  (void)ctx;
  enum { MAX = 128 };
  struct net_conn_info *rows = kmalloc(MAX * sizeof *rows);
  size_t n;
  if (!rows)
    return FT_E_MN(MN_ENOMEM);
  int err = net_conn_list(rows, MAX, &n);
  if (err) {
    kfree(rows);
    return FT_E_MN(err);
  }
  struct net_ifinfo f;
  if (!net_info(&f) && f.present)
    say(vm, "malformed replies: dhcp %llu, dns %llu\n", (unsigned long long)f.dhcp_malformed,
        (unsigned long long)f.dns_malformed);
  say(vm, "%-21s %-21s %-11s %8s %8s %10s %10s\n", "local", "remote", "state", "rx-q",
      "tx-q", "rx", "tx");
  for (size_t i = 0; i < n && i < MAX; i++) {
    char la[16], ra[16], l[24], r[24];
    net_ip4_format(rows[i].local_ip, la);
    net_ip4_format(rows[i].remote_ip, ra);
    ksnprintf(l, sizeof l, "%s:%u", la, rows[i].local_port);
    ksnprintf(r, sizeof r, "%s:%u", ra, rows[i].remote_port);
    say(vm, "%-21s %-21s %-11s %8u %8u %10llu %10llu\n", l, r, rows[i].state,
        (unsigned)rows[i].rx_queued, (unsigned)rows[i].tx_queued,
        (unsigned long long)rows[i].rx_total, (unsigned long long)rows[i].tx_total);
  }
  say(vm, "%zu connection%s\n", n, n == 1 ? "" : "s");
  kfree(rows);
  return 0;
}

static int
w_tcp_open(forth_vm *vm, void *ctx)
{
  (void)ctx;
  forth_cell v[3];
  const char *s;
  size_t len;
  struct net_conn *c;
  int err = args(vm, v, 3);
  if (!err)
    err = str(vm, v, &s, &len);
  if (err)
    return err;
  if (v[2] < 1 || v[2] > 65535)
    return -24;
  int slot = 0;
  while (slot < MAX_HANDLES && handles[slot])
    slot++;
  if (slot == MAX_HANDLES)
    return FT_E_MN(MN_ENOSPC);
  err = net_tcp_connect(s, len, (uint16_t)v[2], OPEN_TIMEOUT, &c);
  if (err)
    return FT_E_MN(err);
  handles[slot] = c;
  drop(vm, 3);
  return forth_push(vm, slot + 1);
}

static int
w_tcp_write(forth_vm *vm, void *ctx)
{
  (void)ctx;
  forth_cell v[3];
  int err = args(vm, v, 3);
  if (err)
    return err;
  struct net_conn *c = conn_of(v[2]);
  if (!c)
    return FT_E_MN(MN_EINVAL);
  if (v[1] < 0)
    return -24;
  const void *p = forth_mem(vm, v[0], (size_t)v[1]);
  if (!p && v[1])
    return -9;
  err = net_tcp_write(c, p, (size_t)v[1], WRITE_TIMEOUT);
  if (err)
    return FT_E_MN(err);
  drop(vm, 3);
  return 0;
}

static int
w_tcp_read(forth_vm *vm, void *ctx)
{
  (void)ctx;
  struct forth_task *ft = forth_host_ctx(vm);
  forth_cell v[3];
  int err = args(vm, v, 3);
  if (err)
    return err;
  struct net_conn *c = conn_of(v[2]);
  if (!c)
    return FT_E_MN(MN_EINVAL);
  if (v[1] < 0)
    return -24;
  uint8_t *dst = forth_mem(vm, v[0], (size_t)v[1]);
  if (!dst && v[1])
    return -9;
  const uint8_t *g;
  size_t len, n = 0;
  uint32_t seq = waitq_seq(&c->rx.readable);
  err = bbq_read(&c->rx, &g, &len);
  if (err == MN_EAGAIN) {
    ft->wq = &c->rx.readable;
    ft->wseq = seq;
    ft->wdeadline = MN_FOREVER;
    return FORTH_WAIT;
  }
  if (err == MN_ECLOSED && c->error)
    return FT_E_MN(c->error);
  if (!err) {
    n = len < (size_t)v[1] ? len : (size_t)v[1];
    if (n)
      memcpy(dst, g, n);
    bbq_release(&c->rx, n);
    net_conn_kick(c);
  }
  drop(vm, 3);
  return forth_push(vm, (forth_cell)n);
}

static int
w_tcp_close(forth_vm *vm, void *ctx)
{
  (void)ctx;
  forth_cell h;
  if (forth_depth(vm) < 1)
    return -4;
  forth_peek(vm, 0, &h);
  struct net_conn *c = conn_of(h);
  if (!c)
    return FT_E_MN(MN_EINVAL);
  handles[h - 1] = NULL;
  drop(vm, 1);
  net_tcp_close(c);
  return 0;
}

static int
w_tcp_listen(forth_vm *vm, void *ctx)
{
  (void)ctx;
  forth_cell port;
  if (forth_depth(vm) < 1)
    return -4;
  forth_peek(vm, 0, &port);
  if (port < 1 || port > 65535)
    return -24;
  int slot = 0;
  while (slot < MAX_LISTENERS && listeners[slot])
    slot++;
  if (slot == MAX_LISTENERS)
    return FT_E_MN(MN_ENOSPC);
  struct net_listener *l;
  int err = net_tcp_listen((uint16_t)port, &l);
  if (err)
    return FT_E_MN(err);
  listeners[slot] = l;
  drop(vm, 1);
  return forth_push(vm, slot + 1);
}

static struct net_listener *
listener_of(forth_cell h)
{
  return h >= 1 && h <= MAX_LISTENERS ? listeners[h - 1] : NULL;
}

/* Waits in the service for ACCEPT_SLICE, then lets the shell look for a
 * Ctrl-C and runs again (the wait queue below is never woken: its
 * deadline, now, only hands control back). */
static int
w_tcp_accept(forth_vm *vm, void *ctx)
{
  (void)ctx;
  static struct waitq again = WAITQ_INIT(again);
  struct forth_task *ft = forth_host_ctx(vm);
  forth_cell h;
  if (forth_depth(vm) < 1)
    return -4;
  forth_peek(vm, 0, &h);
  struct net_listener *l = listener_of(h);
  if (!l)
    return FT_E_MN(MN_EINVAL);
  int slot = 0;
  while (slot < MAX_HANDLES && handles[slot])
    slot++;
  if (slot == MAX_HANDLES)
    return FT_E_MN(MN_ENOSPC);
  struct net_conn *c;
  int err = net_tcp_accept(l, ACCEPT_SLICE, &c);
  if (err == MN_ETIMEDOUT) {
    ft->wq = &again;
    ft->wseq = waitq_seq(&again);
    ft->wdeadline = ktime_now();
    return FORTH_WAIT;
  }
  if (err)
    return FT_E_MN(err);
  handles[slot] = c;
  drop(vm, 1);
  return forth_push(vm, slot + 1);
}

static int
w_tcp_unlisten(forth_vm *vm, void *ctx)
{
  (void)ctx;
  forth_cell h;
  if (forth_depth(vm) < 1)
    return -4;
  forth_peek(vm, 0, &h);
  struct net_listener *l = listener_of(h);
  if (!l)
    return FT_E_MN(MN_EINVAL);
  listeners[h - 1] = NULL;
  drop(vm, 1);
  net_listener_close(l);
  return 0;
}

/* STATUS's lines: the interface's counters and TCP connection counts. */
static void
status_lines(struct forth_task *ft)
{
  struct net_ifinfo f;
  char a[16], b[200];
  if (net_info(&f) || !f.present)
    return;
  net_ip4_format(f.ip, a);
  int n = ksnprintf(b, sizeof b, "net %s: link %s, %s%s\n", f.name, f.link_up ? "up" : "down",
                    f.bound ? "" : "no address ", f.bound ? a : "");
  forth_task_out(ft, b, (size_t)n < sizeof b ? (size_t)n : sizeof b - 1);
  n = ksnprintf(b, sizeof b, "  rx %llu packets %llu bytes %llu dropped %llu errors; "
                "tx %llu packets %llu bytes %llu dropped %llu errors\n",
                (unsigned long long)f.rx_packets, (unsigned long long)f.rx_bytes,
                (unsigned long long)f.rx_dropped, (unsigned long long)(f.rx_errors + f.bad_frames),
                (unsigned long long)f.tx_packets, (unsigned long long)f.tx_bytes,
                (unsigned long long)f.tx_dropped, (unsigned long long)f.tx_errors);
  forth_task_out(ft, b, (size_t)n < sizeof b ? (size_t)n : sizeof b - 1);
  n = ksnprintf(b, sizeof b, "  tcp %u open, %u listening, %u since boot\n",
                (unsigned)f.tcp_open, (unsigned)f.tcp_listen, (unsigned)f.tcp_total);
  forth_task_out(ft, b, (size_t)n < sizeof b ? (size_t)n : sizeof b - 1);
}

static const struct forth_task_word words[] = {
  { "NET", w_net }, { "PING", w_ping }, { "PING-US", w_ping_us }, { "RESOLVE", w_resolve },
  { "NETSTAT", w_netstat }, { "TCP-OPEN", w_tcp_open }, { "TCP-WRITE", w_tcp_write },
  { "TCP-READ", w_tcp_read }, { "TCP-CLOSE", w_tcp_close },
  { "TCP-LISTEN", w_tcp_listen }, { "TCP-ACCEPT", w_tcp_accept },
  { "TCP-UNLISTEN", w_tcp_unlisten },
};

int net_words_install(void);

int
net_words_install(void)
{
  forth_words_status(status_lines);
  return forth_words_add(words, sizeof words / sizeof words[0]);
}
