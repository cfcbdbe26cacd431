/*
 * connect.c: mnemeterm's ways to reach a target, and its bridge listeners.
 *
 * Interface: term_open_target, term_listen.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include "connect.h"

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
open_serial(const char *path, int baud)
{
  int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  struct termios tio;
  if (tcgetattr(fd, &tio) == 0) { /* a tty or pty: raw bytes */
    cfmakeraw(&tio);
    cfsetspeed(&tio, baud_const(baud));
    tio.c_cflag |= CLOCAL | CREAD;
    tcsetattr(fd, TCSANOW, &tio);
  }
  return fd;
}

/* Runs cmd with a socket as its stdin and stdout (its stderr stays ours):
 * the hosted kernel with --serial stdio. */
static int
spawn_target(const char *cmd, pid_t *child)
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
  *child = pid;
  return sv[0];
}

int
term_open_target(const char *s, int baud, pid_t *child)
{
  *child = 0;
  if (!strncmp(s, "exec:", 5))
    return spawn_target(s + 5, child);
  if (!strncmp(s, "tcp:", 4))
    return connect_tcp(s + 4);
  if (!strncmp(s, "unix:", 5))
    return connect_unix(s + 5);
  struct stat st;
  if (stat(s, &st) == 0)
    return S_ISSOCK(st.st_mode) ? connect_unix(s) : open_serial(s, baud);
  return strchr(s, ':') ? connect_tcp(s) : -1;
}

int
term_listen(int port)
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
