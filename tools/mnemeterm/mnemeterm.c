/*
 * mnemeterm.c: the host terminal for mneme's serial mux (our crowtty).
 *
 * Interface: main (see usage() and docs/mnemeterm.md).
 *
 * One poll() loop. Bytes from the target go through the sermux
 * demultiplexer (lib/sermux_frame): text (boot output, panics) is printed
 * as lines; each frame goes to the TCP clients bridged to its port
 * (127.0.0.1:base+port), to stdout for --show ports, and, for the tracing
 * port, to the trace decoder, which prints records coloured by level.
 * Bytes from bridge clients and stdin are cut into frames of at most
 * max_frame/2 payload bytes and queued to the target. When the target
 * queue is long, clients and stdin are not read (back-pressure through
 * TCP); a client that reads too slowly loses data, counted in --stats.
 * With --ports auto, open ports are learnt from the target's status
 * service over port 4 (discover_*). Targets are opened by connect.c;
 * tracing records are decoded by trace_decode.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "mneme/err.h"
#include "mneme/postcard.h"
#include "mneme/sermux_frame.h"
#include "connect.h"
#include "trace_decode.h"

#define MAX_PORTS 64
#define MAX_CLIENTS 64
#define TARGET_HIGH (256u * 1024u)    /* stop reading inputs above this */
#define CLIENT_MAX (4u * 1024u * 1024u)

struct buf {
  uint8_t *p;
  size_t len, cap;
};

struct client {
  int fd;
  uint16_t port;
  struct buf out;
  uint64_t lost;
};

static struct {
  /* options */
  const char *target;
  int base, stdin_port, trace_port, trace_level, color, quiet, stats;
  int baud, exit_after;
  int discover;                 /* --ports auto: ask status for open ports */
  const char *trace_targets;    /* --trace-targets */
  pid_t child;                  /* exec: target */
  size_t max_frame;
  uint16_t ports[MAX_PORTS];
  int nports;
  uint8_t show[65536 / 8];
  /* state */
  int fd;
  struct buf out;               /* to the target */
  int listen[MAX_PORTS];
  struct client cl[MAX_CLIENTS];
  int ncl;
  int stdin_open;
  struct smx_demux demux;
  struct trace_decoder tdec;
  /* port discovery over the userspace bridge (port 4), see discover_*() */
  struct {
    int active;                 /* a round is under way */
    uint32_t index;             /* MuxPort index asked for */
    time_t next, deadline;
    struct cobs_stream cs;      /* port 4 payload: COBS-framed replies */
    uint8_t frame[2048];
    uint64_t rounds;
  } disc;
  /* counters */
  uint64_t wire_rx, wire_tx, payload_rx, payload_tx, frames_rx, frames_tx,
           client_lost;
} t;

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
  (void)sig;
  stop = 1;
}

/* ---- buffers ----------------------------------------------------------------- */

static int
buf_add(struct buf *b, const void *p, size_t n)
{
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n)
      cap *= 2;
    uint8_t *q = realloc(b->p, cap);
    if (!q)
      return -1;
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->len, p, n);
  b->len += n;
  return 0;
}

static void
buf_drop(struct buf *b, size_t n)
{
  memmove(b->p, b->p + n, b->len - n);
  b->len -= n;
}

/* Writes what it can of b to fd. Returns -1 on a dead fd. */
static int
buf_flush(struct buf *b, int fd)
{
  while (b->len) {
    ssize_t w = write(fd, b->p, b->len);
    if (w > 0) {
      buf_drop(b, (size_t)w);
      continue;
    }
    if (w < 0 && (errno == EAGAIN || errno == EINTR))
      return 0;
    return -1;
  }
  return 0;
}

/* ---- options ----------------------------------------------------------------- */

static void
usage(FILE *f)
{
  fprintf(f,
"usage: mnemeterm [options] TARGET\n"
"Host terminal for mneme's serial mux: demultiplexes frames, prints text\n"
"lines and decoded tracing, bridges ports to TCP on 127.0.0.1:BASE+PORT.\n"
"\n"
"TARGET is one of:\n"
"  tcp:HOST:PORT or HOST:PORT    a TCP endpoint (hosted mneme --serial tcp:PORT)\n"
"  unix:PATH                     a unix stream socket\n"
"  PATH                          a serial device or pty (QEMU -serial pty)\n"
"  exec:COMMAND                  run COMMAND with its stdin/stdout as the line\n"
"                                (exec:'build/hosted/mneme --serial stdio')\n"
"\n"
"options:\n"
"  -b, --base N          first bridge port (default 10000; 0: no bridges)\n"
"  -p, --ports LIST      ports to bridge, e.g. 0,1,4,10-13; auto (default):\n"
"                        0-15 and every port the target's status service\n"
"                        lists as open (asked on port 4 every 2 s)\n"
"  -i, --stdin-port N    send stdin to port N (default 2; -1: ignore stdin)\n"
"  -t, --trace-port N    tracing port (default 3; -1: no tracing)\n"
"  -l, --trace-level L   tracing level to ask for: trace, debug, info, warn,\n"
"                        error (default info)\n"
"  -T, --trace-targets L print only records of these targets (sermux,tracing)\n"
"  -s, --show LIST       also print the data of these ports on stdout\n"
"  -f, --max-frame N     the target's max frame size (default 512)\n"
"      --baud N          serial speed (default 115200)\n"
"      --color WHEN      auto, always or never (default auto)\n"
"  -q, --quiet           do not print text lines from the target\n"
"      --stats           print byte and frame counters on exit\n"
"      --exit-after SEC  exit after SEC seconds (scripts)\n"
"  -h, --help            this text\n");
}

/* Parses "0,1,4,10-13" into a port list or the show bitmap. */
static int
parse_ports(const char *s, uint16_t *ports, int *n, uint8_t *bits)
{
  *n = 0;
  while (*s) {
    char *end;
    long a = strtol(s, &end, 10), b = a;
    if (end == s || a < 0 || a > 65535)
      return -1;
    if (*end == '-') {
      s = end + 1;
      b = strtol(s, &end, 10);
      if (end == s || b < a || b > 65535)
        return -1;
    }
    for (long p = a; p <= b; p++) {
      if (bits)
        bits[p / 8] |= (uint8_t)(1u << (p % 8));
      else if (*n < MAX_PORTS)
        ports[(*n)++] = (uint16_t)p;
      else
        return -1;
    }
    s = *end == ',' ? end + 1 : end;
    if (*end && *end != ',')
      return -1;
  }
  return 0;
}

static int
parse_level(const char *s)
{
  static const char *names[] = { "trace", "debug", "info", "warn", "error" };
  for (int i = 0; i < 5; i++)
    if (!strcmp(s, names[i]))
      return i;
  return -1;
}

static int
parse_args(int argc, char **argv)
{
  int dummy;
  t.base = 10000;
  t.stdin_port = 2;
  t.trace_port = 3;
  t.trace_level = 2;
  t.max_frame = 512;
  t.baud = 115200;
  t.color = isatty(1);
  t.discover = 1;
  parse_ports("0-15", t.ports, &t.nports, 0);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : 0;
#define OPT(s, l) (!strcmp(a, s) || !strcmp(a, l))
    if (OPT("-h", "--help")) {
      usage(stdout);
      exit(0);
    } else if (OPT("-q", "--quiet")) {
      t.quiet = 1;
    } else if (!strcmp(a, "--stats")) {
      t.stats = 1;
    } else if (a[0] == '-' && a[1] && !v) {
      return -1;
    } else if (OPT("-b", "--base")) {
      t.base = atoi(v), i++;
    } else if (OPT("-p", "--ports")) {
      t.discover = !strcmp(v, "auto");
      if (t.discover)
        parse_ports("0-15", t.ports, &t.nports, 0);
      else if (parse_ports(v, t.ports, &t.nports, 0))
        return -1;
      i++;
    } else if (OPT("-i", "--stdin-port")) {
      t.stdin_port = atoi(v), i++;
    } else if (OPT("-t", "--trace-port")) {
      t.trace_port = atoi(v), i++;
    } else if (OPT("-l", "--trace-level")) {
      if ((t.trace_level = parse_level(v)) < 0)
        return -1;
      i++;
    } else if (OPT("-T", "--trace-targets")) {
      t.trace_targets = v, i++;
    } else if (OPT("-s", "--show")) {
      if (parse_ports(v, 0, &dummy, t.show))
        return -1;
      i++;
    } else if (OPT("-f", "--max-frame")) {
      t.max_frame = (size_t)atol(v), i++;
      if (t.max_frame < 8)
        return -1;
    } else if (!strcmp(a, "--baud")) {
      t.baud = atoi(v), i++;
    } else if (!strcmp(a, "--exit-after")) {
      t.exit_after = atoi(v), i++;
    } else if (!strcmp(a, "--color")) {
      t.color = !strcmp(v, "always") ? 1 : !strcmp(v, "never") ? 0 : isatty(1);
      i++;
    } else if (a[0] == '-' && a[1]) {
      return -1;
    } else if (!t.target) {
      t.target = a;
    } else {
      return -1;
    }
#undef OPT
  }
  return t.target ? 0 : -1;
}

/* ---- output ------------------------------------------------------------------ */

static void forward(uint16_t port, const uint8_t *p, size_t n);
static void discover_feed(const uint8_t *p, size_t n);
#define DISC_PORT 4

/* Sends payload to a port as frames of at most max_frame/2 bytes. */
static void
send_port(uint16_t port, const uint8_t *p, size_t n)
{
  size_t chunk = t.max_frame / 2;
  uint8_t enc[70000];
  while (n) {
    size_t k = n < chunk ? n : chunk, len;
    if (smx_encode(port, p, k, enc, sizeof enc, &len) == 0) {
      buf_add(&t.out, enc, len);
      t.frames_tx++;
      t.payload_tx += k;
    }
    p += k;
    n -= k;
  }
}

static void
send_trace_level(void)
{
  if (t.trace_port < 0)
    return;
  uint8_t msg[2] = { 0 /* SetMaxLevel */, (uint8_t)t.trace_level }, enc[8];
  size_t len;
  cobs_encode(msg, sizeof msg, enc, sizeof enc - 1, &len);
  enc[len++] = 0;
  send_port((uint16_t)t.trace_port, enc, len);
}

static void
print_text(const uint8_t *p, size_t n)
{
  if (t.quiet)
    return;
  fwrite(p, 1, n, stdout); /* a partial line's rest follows later */
  fflush(stdout);
}

static void
on_frame(uint16_t port, const uint8_t *p, size_t n)
{
  if (t.frames_rx++ == 0)
    send_trace_level(); /* the target speaks sermux: ask for our level */
  t.payload_rx += n;
  if (port == t.trace_port) {
    int r = trace_feed(&t.tdec, p, n, stdout);
    static time_t last;
    if (r == TRACE_FEED_LEVEL_MISMATCH && time(0) != last) {
      last = time(0);
      send_trace_level(); /* the target restarted or missed it */
    }
  }
  if (t.show[port / 8] & (1u << (port % 8))) {
    printf("[%u] ", port);
    fwrite(p, 1, n, stdout);
    if (n && p[n - 1] != '\n')
      putchar('\n');
    fflush(stdout);
  }
  if (t.discover && port == DISC_PORT)
    discover_feed(p, n);
  else
    forward(port, p, n);
}

/* Queues bytes of a port to its bridge clients. */
static void
forward(uint16_t port, const uint8_t *p, size_t n)
{
  for (int i = 0; i < t.ncl; i++) {
    struct client *c = &t.cl[i];
    if (c->port != port)
      continue;
    if (c->out.len + n > CLIENT_MAX) {
      c->lost += n;
      t.client_lost += n;
    } else {
      buf_add(&c->out, p, n);
    }
  }
}

static int
read_target(void)
{
  uint8_t in[65536];
  ssize_t n = read(t.fd, in, sizeof in);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR && errno != EIO))
    return -1;
  if (n < 0)
    return 0;
  t.wire_rx += (uint64_t)n;
  size_t off = 0;
  while (off < (size_t)n) {
    struct smx_item it;
    size_t used;
    int kind = smx_demux_feed(&t.demux, in + off, (size_t)n - off, &used, &it);
    off += used;
    if (kind == SMX_FRAME)
      on_frame(it.port, it.data, it.len);
    else if (kind == SMX_TEXT)
      print_text(it.data, it.len);
  }
  struct smx_item it;
  if (smx_demux_flush_text(&t.demux, &it) == SMX_TEXT) /* a prompt */
    print_text(it.data, it.len);
  return 0;
}

/* ---- port discovery ---------------------------------------------------------- */

/*
 * With --ports auto, mnemeterm asks the target's status service (through
 * the userspace bridge on port 4) for MuxPort(0), MuxPort(1), ... until
 * NoSuchIndex, every 2 s, and bridges each port it learns of. Its requests
 * carry nonces DISC_NONCE + index; replies with such nonces are taken off
 * port 4, every other frame on port 4 goes to the bridge clients as usual.
 */
#define DISC_NONCE 0x6d6e0000u
static const uint8_t status_uuid[16] = { 0x14, 0x63, 0xb7, 0x74, 0xce, 0x29, 0x4e, 0xa9,
                                         0x94, 0xc0, 0xc0, 0x70, 0x56, 0x18, 0x4c, 0x38 };

static void
add_port(uint16_t port)
{
  for (int i = 0; i < t.nports; i++)
    if (t.ports[i] == port)
      return;
  if (t.nports == MAX_PORTS || t.base <= 0)
    return;
  t.ports[t.nports] = port;
  t.listen[t.nports] = term_listen(t.base + port);
  if (t.listen[t.nports] < 0)
    fprintf(stderr, "mnemeterm: cannot listen on 127.0.0.1:%d\n", t.base + port);
  else
    fprintf(stderr, "mnemeterm: port %u open: bridged at 127.0.0.1:%d\n", port,
            t.base + port);
  t.nports++;
}

static void
discover_ask(uint32_t index)
{
  uint8_t req[48], enc[64];
  struct pc_enc e;
  size_t len;
  uint8_t body[8];
  struct pc_enc b;
  pc_enc_init(&b, body, sizeof body);
  pc_enc_variant(&b, 6); /* MuxPort(index) */
  pc_enc_u32(&b, index);
  pc_enc_init(&e, req, sizeof req);
  pc_enc_uuid(&e, status_uuid);
  pc_enc_u32(&e, DISC_NONCE + index);
  pc_enc_bytes(&e, body, pc_enc_len(&b));
  if (pc_enc_error(&e) || cobs_encode(req, pc_enc_len(&e), enc, sizeof enc - 1, &len))
    return;
  enc[len++] = 0;
  send_port(DISC_PORT, enc, len);
  t.disc.index = index;
  t.disc.active = 1;
  t.disc.deadline = time(0) + 5;
}

/* A reply to one of our requests? Then it is handled and 1 returned. */
static int
discover_reply(const uint8_t *f, size_t n)
{
  struct pc_dec d;
  uint8_t uuid[16], ok;
  uint32_t nonce, kind;
  uint16_t port;
  pc_dec_init(&d, f, n);
  if (pc_dec_uuid(&d, uuid) || memcmp(uuid, status_uuid, 16) ||
      pc_dec_u32(&d, &nonce) || nonce != DISC_NONCE + t.disc.index ||
      !t.disc.active || pc_dec_u8(&d, &ok))
    return 0;
  if (ok == 0 && pc_dec_variant(&d, &kind) == 0 && kind == 6 &&
      pc_dec_u16(&d, &port) == 0) {
    add_port(port);
    discover_ask(t.disc.index + 1);
  } else { /* NoSuchIndex: the round is over */
    t.disc.active = 0;
    t.disc.rounds++;
  }
  return 1;
}

/* Port 4 payload: our replies are taken out, the rest is forwarded. */
static void
discover_feed(const uint8_t *p, size_t n)
{
  size_t off = 0;
  while (off < n) {
    size_t used, len;
    int r = cobs_stream_feed(&t.disc.cs, p + off, n - off, &used);
    off += used;
    if (r != 1)
      continue; /* a bad frame is the clients' business: they see it below */
    const uint8_t *f = cobs_stream_frame(&t.disc.cs, &len);
    if (!discover_reply(f, len)) {
      uint8_t enc[2200];
      size_t elen;
      if (cobs_encode(f, len, enc, sizeof enc - 1, &elen) == 0) {
        enc[elen++] = 0;
        forward(DISC_PORT, enc, elen);
      }
    }
  }
}

static void
discover_tick(void)
{
  time_t now = time(0);
  if (t.disc.active && now >= t.disc.deadline)
    t.disc.active = 0; /* no answer: no bridge or no status on port 4 */
  if (!t.disc.active && now >= t.disc.next) {
    t.disc.next = now + 2;
    discover_ask(0);
  }
}

/* ---- clients ------------------------------------------------------------------ */

static void
accept_client(int li)
{
  int fd = accept4(t.listen[li], 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0)
    return;
  if (t.ncl == MAX_CLIENTS) {
    close(fd);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  t.cl[t.ncl++] = (struct client){ fd, t.ports[li], { 0, 0, 0 }, 0 };
}

static void
drop_client(int i)
{
  close(t.cl[i].fd);
  free(t.cl[i].out.p);
  t.cl[i] = t.cl[--t.ncl];
}

/* Reads a client or stdin into frames for port. Returns -1 at EOF. */
static int
read_input(int fd, uint16_t port)
{
  uint8_t in[16384];
  ssize_t n = read(fd, in, sizeof in);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
    return -1;
  if (n > 0)
    send_port(port, in, (size_t)n);
  return 0;
}

/* ---- main loop ---------------------------------------------------------------- */

static int
loop(void)
{
  struct pollfd pf[2 + MAX_PORTS + MAX_CLIENTS];
  time_t end = t.exit_after ? time(0) + t.exit_after : 0;
  while (!stop) {
    if (t.discover && t.frames_rx)
      discover_tick(); /* only once the target is known to speak sermux */
    int n = 0, accepting = t.out.len < TARGET_HIGH, np = t.nports;
    pf[n++] = (struct pollfd){ t.fd, (short)(POLLIN | (t.out.len ? POLLOUT : 0)), 0 };
    pf[n++] = (struct pollfd){ t.stdin_open && accepting ? 0 : -1, POLLIN, 0 };
    for (int i = 0; i < np; i++)
      pf[n++] = (struct pollfd){ t.listen[i], POLLIN, 0 };
    for (int i = 0; i < t.ncl; i++)
      pf[n++] = (struct pollfd){ t.cl[i].fd,
        (short)((accepting ? POLLIN : 0) | (t.cl[i].out.len ? POLLOUT : 0)), 0 };
    int timeout = end || t.discover ? 200 : -1;
    if (poll(pf, (nfds_t)n, timeout) < 0 && errno != EINTR)
      return 1;
    if (end && time(0) >= end)
      break;
    /* New bridge clients first: one that connected before the target's
     * bytes came gets them. */
    for (int i = 0; i < np; i++)
      if (pf[2 + i].revents & POLLIN)
        accept_client(i);
    if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (read_target()) {
        fprintf(stderr, "mnemeterm: %s: connection closed\n", t.target);
        return 1;
      }
    }
    if (pf[1].revents && read_input(0, (uint16_t)t.stdin_port))
      t.stdin_open = 0;
    /* clients: walk backwards, dropping closes the gap from the end */
    int ncl = t.ncl < n - 2 - np ? t.ncl : n - 2 - np;
    for (int i = ncl - 1; i >= 0; i--) {
      short re = pf[2 + np + i].revents;
      struct client *c = &t.cl[i];
      int dead = 0;
      if (re & POLLIN)
        dead = read_input(c->fd, c->port) != 0;
      if (!dead && (re & POLLOUT))
        dead = buf_flush(&c->out, c->fd) != 0;
      if (dead || (re & (POLLERR | POLLNVAL)))
        drop_client(i);
    }
    size_t before = t.out.len;
    if (buf_flush(&t.out, t.fd)) {
      fprintf(stderr, "mnemeterm: %s: write failed\n", t.target);
      return 1;
    }
    t.wire_tx += before - t.out.len;
  }
  return 0;
}

int
main(int argc, char **argv)
{
  if (parse_args(argc, argv)) {
    usage(stderr);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  t.fd = term_open_target(t.target, t.baud, &t.child);
  if (t.fd < 0) {
    fprintf(stderr, "mnemeterm: cannot open %s: %s\n", t.target, strerror(errno));
    return 1;
  }
  fcntl(t.fd, F_SETFL, fcntl(t.fd, F_GETFL) | O_NONBLOCK);
  size_t dsz = smx_demux_buf_size(t.max_frame);
  if (smx_demux_init(&t.demux, malloc(dsz), dsz, t.max_frame) != 0)
    return 1;
  trace_decoder_init(&t.tdec, t.color, t.trace_level);
  t.tdec.targets = t.trace_targets;
  cobs_stream_init(&t.disc.cs, t.disc.frame, sizeof t.disc.frame);
  t.stdin_open = t.stdin_port >= 0 && t.stdin_port <= 65535;
  if (t.stdin_open)
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  for (int i = 0; i < t.nports; i++) {
    t.listen[i] = t.base > 0 ? term_listen(t.base + t.ports[i]) : -1;
    if (t.base > 0 && t.listen[i] < 0)
      fprintf(stderr, "mnemeterm: cannot listen on 127.0.0.1:%d\n", t.base + t.ports[i]);
  }
  fprintf(stderr, "mnemeterm: connected to %s%s\n", t.target,
          t.base > 0 ? "; ports bridged at 127.0.0.1" : "");
  int rc = loop();
  if (t.child > 0) {
    kill(-t.child, SIGTERM); /* its process group */
    waitpid(t.child, 0, 0);
  }
  if (t.stats)
    fprintf(stderr,
            "mnemeterm: wire_rx %llu wire_tx %llu payload_rx %llu payload_tx %llu "
            "frames_rx %llu frames_tx %llu text %llu malformed %llu client_lost %llu "
            "trace_records %llu trace_bad %llu\n",
            (unsigned long long)t.wire_rx, (unsigned long long)t.wire_tx,
            (unsigned long long)t.payload_rx, (unsigned long long)t.payload_tx,
            (unsigned long long)t.frames_rx, (unsigned long long)t.frames_tx,
            (unsigned long long)t.demux.count.text_bytes,
            (unsigned long long)t.demux.count.malformed,
            (unsigned long long)t.client_lost,
            (unsigned long long)t.tdec.records, (unsigned long long)t.tdec.bad);
  return rc;
}
