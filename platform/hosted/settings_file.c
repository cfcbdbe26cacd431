/*
 * settings_file.c: the hosted platform's settings store, a TOML file
 * (`mneme --settings FILE`): plat_settings_get reads it, plat_settings_put
 * replaces it atomically (a temporary file beside it, then rename), mode
 * 0600 since it holds the API key. Without --settings there is no store
 * (MN_ENOENT / MN_ENOTSUP).
 *
 * Interface: hosted_settings_path, plat_settings_get, plat_settings_put.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hosted.h"
#include "mneme/err.h"
#include "mneme/chat_session.h"
#include "mneme/settings.h"

const char *hosted_settings_path;

int plat_settings_get(void *buf, size_t cap) {
  if (!hosted_settings_path) return MN_ENOENT;
  int fd = open(hosted_settings_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? MN_ENOENT : MN_EIO;
  size_t n = 0;
  for (;;) {
    if (n == cap) {
      char c;
      ssize_t more = read(fd, &c, 1);
      close(fd);
      return more > 0 ? MN_ENOSPC : (int)n;
    }
    ssize_t r = read(fd, (char *)buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      close(fd);
      return MN_EIO;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  return (int)n;
}

static int write_atomic(const char *path, const void *buf, size_t len) {
  char tmp[512]; /* small: this runs on a Forth VM's 12 KiB task stack */
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
    return MN_EINVAL;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return MN_EIO;
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, (const char *)buf + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      close(fd);
      unlink(tmp);
      return errno == ENOSPC ? MN_ENOSPC : MN_EIO;
    }
    off += (size_t)w;
  }
  if (fsync(fd) || close(fd) || rename(tmp, path)) {
    unlink(tmp);
    return MN_EIO;
  }
  return 0;
}

int plat_settings_put(const void *buf, size_t len) {
  if (!hosted_settings_path) return MN_ENOTSUP;
  return write_atomic(hosted_settings_path, buf, len);
}

/* The conversations without a disk: FILE.chats beside the settings. */
static int chats_path(char *out, size_t cap) {
  if (!hosted_settings_path) return MN_ENOTSUP;
  return snprintf(out, cap, "%s.chats", hosted_settings_path) < (int)cap ? 0 : MN_EINVAL;
}

static int read_all(const char *path, void *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? MN_ENOENT : MN_EIO;
  size_t n = 0;
  while (n < cap) {
    ssize_t r = read(fd, (char *)buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(fd);
  return (int)n;
}

int plat_chats_get(void *buf, size_t cap) {
  char p[512];
  int rc = chats_path(p, sizeof p);
  return rc ? rc : read_all(p, buf, cap);
}

int plat_chats_put(const void *buf, size_t len) {
  char p[512];
  int rc = chats_path(p, sizeof p);
  if (rc) return rc;
  return write_atomic(p, buf, len);
}

/* Like a UEFI variable: a small store, so the "newest that fit" rule is
 * the same on every platform. */
size_t plat_chats_cap(void) { return hosted_settings_path ? 32u * 1024u : 0; }

const char *plat_chats_where(void) { return "the settings file's .chats"; }
