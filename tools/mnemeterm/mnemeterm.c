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
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "mneme/err.h"
#include "mneme/sermux_frame.h"
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
"  -p, --ports LIST      ports to bridge (default 0-15), e.g. 0,1,4,10-13\n"
"  -i, --stdin-port N    send stdin to port N (default 2; -1: ignore stdin)\n"
"  -t, --trace-port N    tracing port (default 3; -1: no tracing)\n"
"  -l, --trace-level L   tracing level to ask for: trace, debug, info, warn,\n"
"                        error (default info)\n"
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
      if (parse_ports(v, t.ports, &t.nports, 0))
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

/* ---- connecting -------------------------------------------------------------- */

static int
connect_tcp(const char *hostport)
{
  char host[256];
  const char *colon = strrchr(hostport, ':');
  if (!colon || (size_t)(colon - hostport) >= sizeof host)
    return -1;
  memcpy(host, hostport, (size_t)(colon - hostport));
  host[colon - hostport] = 0;
  struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
  if (getaddrinfo(host[0] ? host : "127.0.0.1", colon + 1, &hints, &res))
    return -1;
  int fd = -1;
  for (struct addrinfo *r = res; r && fd < 0; r = r->ai_next) {
    fd = socket(r->ai_family, r->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, r->ai_addr, r->ai_addrlen)) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

static int
connect_unix(const char *path)
{
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  if (strlen(path) >= sizeof a.sun_path)
    return -1;
  strcpy(a.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a)) {
    close(fd);
    return -1;
  }
  return fd;
}

static speed_t
baud_const(int baud)
{
  switch (baud) {
  case 9600: return B9600;
  case 19200: return B19200;
  case 38400: return B38400;
  case 57600: return B57600;
  case 230400: return B230400;
  case 460800: return B460800;
  case 921600: return B921600;
  default: return B115200;
  }
}

static int
open_serial(const char *path)
{
  int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  struct termios tio;
  if (tcgetattr(fd, &tio) == 0) { /* a tty or pty: raw bytes */
    cfmakeraw(&tio);
    cfsetspeed(&tio, baud_const(t.baud));
    tio.c_cflag |= CLOCAL | CREAD;
    tcsetattr(fd, TCSANOW, &tio);
  }
  return fd;
}

/* Runs cmd with a socket as its stdin and stdout (its stderr stays ours):
 * the hosted kernel with --serial stdio. */
static int
spawn_target(const char *cmd)
{
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
    return -1;
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    setpgid(0, 0); /* a ^C at the terminal is for mnemeterm */
    dup2(sv[1], 0);
    dup2(sv[1], 1);
    execl("/bin/sh", "sh", "-c", cmd, (char *)0);
    _exit(127);
  }
  close(sv[1]);
  t.child = pid;
  return sv[0];
}

static int
open_target(const char *s)
{
  if (!strncmp(s, "exec:", 5))
    return spawn_target(s + 5);
  if (!strncmp(s, "tcp:", 4))
    return connect_tcp(s + 4);
  if (!strncmp(s, "unix:", 5))
    return connect_unix(s + 5);
  struct stat st;
  if (stat(s, &st) == 0)
    return S_ISSOCK(st.st_mode) ? connect_unix(s) : open_serial(s);
  return strchr(s, ':') ? connect_tcp(s) : -1;
}

static int
open_listener(int port)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
      bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 4)) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  return fd;
}

/* ---- output ------------------------------------------------------------------ */

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
  t.frames_rx++;
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
    int n = 0, accepting = t.out.len < TARGET_HIGH;
    pf[n++] = (struct pollfd){ t.fd, (short)(POLLIN | (t.out.len ? POLLOUT : 0)), 0 };
    pf[n++] = (struct pollfd){ t.stdin_open && accepting ? 0 : -1, POLLIN, 0 };
    for (int i = 0; i < t.nports; i++)
      pf[n++] = (struct pollfd){ t.listen[i], POLLIN, 0 };
    for (int i = 0; i < t.ncl; i++)
      pf[n++] = (struct pollfd){ t.cl[i].fd,
        (short)((accepting ? POLLIN : 0) | (t.cl[i].out.len ? POLLOUT : 0)), 0 };
    int timeout = end ? 200 : -1;
    if (poll(pf, (nfds_t)n, timeout) < 0 && errno != EINTR)
      return 1;
    if (end && time(0) >= end)
      break;
    if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (read_target()) {
        fprintf(stderr, "mnemeterm: %s: connection closed\n", t.target);
        return 1;
      }
    }
    if (pf[1].revents && read_input(0, (uint16_t)t.stdin_port))
      t.stdin_open = 0;
    for (int i = 0; i < t.nports; i++)
      if (pf[2 + i].revents & POLLIN)
        accept_client(i);
    /* clients: walk backwards, dropping closes the gap from the end */
    int ncl = t.ncl < n - 2 - t.nports ? t.ncl : n - 2 - t.nports;
    for (int i = ncl - 1; i >= 0; i--) {
      short re = pf[2 + t.nports + i].revents;
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
  t.fd = open_target(t.target);
  if (t.fd < 0) {
    fprintf(stderr, "mnemeterm: cannot open %s: %s\n", t.target, strerror(errno));
    return 1;
  }
  fcntl(t.fd, F_SETFL, fcntl(t.fd, F_GETFL) | O_NONBLOCK);
  size_t dsz = smx_demux_buf_size(t.max_frame);
  if (smx_demux_init(&t.demux, malloc(dsz), dsz, t.max_frame) != 0)
    return 1;
  trace_decoder_init(&t.tdec, t.color, t.trace_level);
  t.stdin_open = t.stdin_port >= 0 && t.stdin_port <= 65535;
  if (t.stdin_open)
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  for (int i = 0; i < t.nports; i++) {
    t.listen[i] = t.base > 0 ? open_listener(t.base + t.ports[i]) : -1;
    if (t.base > 0 && t.listen[i] < 0)
      fprintf(stderr, "mnemeterm: cannot listen on 127.0.0.1:%d\n", t.base + t.ports[i]);
  }
  fprintf(stderr, "mnemeterm: connected to %s%s\n", t.target,
          t.base > 0 ? "; ports bridged at 127.0.0.1" : "");
  send_trace_level();
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
