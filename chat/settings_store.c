/*
 * settings_store.c: settings_load and settings_save (settings.h) over the
 * platform's raw store (plat_settings_get/put), in the TOML form of
 * lib/settings.c. A corrupt store gives the defaults and a log line with
 * the reason (never the key's value).
 *
 * With the files service and a /boot volume, every save is mirrored to
 * /boot/mneme/settings.toml (the same text, without the API key when the
 * platform's own store keeps it: anyone can read a file), and when the platform's
 * store holds nothing (a new machine, cleared variables) the settings are
 * loaded from that file.
 *
 * Interface: settings_load, settings_save.
 */
#include <string.h>

#include "mneme/err.h"
#include "mneme/fat.h"
#include "mneme/files.h"
#include "mneme/kmem.h"
#include "mneme/log.h"
#include "mneme/settings.h"

#define MIRROR_DIR "/boot/mneme"
#define MIRROR_PATH "/boot/mneme/settings.toml"

/* One request to the files service on c; q is reset first. */
static int fcall(struct svc_client *c, struct files_req *q, struct files_resp *r, int kind,
                 const char *path) {
  memset(q, 0, offsetof(struct files_req, data));
  q->kind = (uint8_t)kind;
  if (path) memcpy(q->path, path, strlen(path) + 1);
  return files_call(c, q, r);
}

/* Reads (write 0) or writes the mirror file: bytes read / 0, or MN_E*
 * (MN_ENOENT, MN_ENOTSUP: no files service or no /boot). */
static int mirror_io(int write, char *buf, size_t len) {
  struct svc_client c;
  if (files_connect(&c)) return MN_ENOTSUP;
  struct files_req *q = kmalloc(sizeof *q);
  struct files_resp *r = kmalloc(sizeof *r);
  int rc = MN_ENOMEM;
  if (!q || !r) goto out;
  if ((rc = fcall(&c, q, r, FILES_SPACE, "/boot"))) {
    rc = MN_ENOTSUP;
    goto out;
  }
  if (write) fcall(&c, q, r, FILES_MKDIR, MIRROR_DIR); /* there already: fine */
  memset(q, 0, offsetof(struct files_req, data));
  q->kind = FILES_OPEN;
  memcpy(q->path, MIRROR_PATH, sizeof MIRROR_PATH);
  q->flags = write ? FAT_WRITE | FAT_CREATE | FAT_TRUNC : FAT_READ;
  if ((rc = files_call(&c, q, r))) goto out;
  uint32_t h = r->handle;
  size_t done = 0;
  while (done < len) {
    memset(q, 0, offsetof(struct files_req, data));
    q->kind = write ? FILES_WRITE : FILES_READ;
    q->handle = h;
    q->len = (uint32_t)(len - done);
    q->buf = buf + done;
    if ((rc = files_call(&c, q, r)) || !r->value) break;
    done += r->value;
  }
  memset(q, 0, offsetof(struct files_req, data));
  q->kind = FILES_CLOSE;
  q->handle = h;
  int rc2 = files_call(&c, q, r);
  if (!rc) rc = rc2;
  if (!rc && write) rc = fcall(&c, q, r, FILES_SYNC, NULL);
  if (!rc) rc = (int)done;
out:
  if (q) memset(q, 0, sizeof *q); /* the text holds the key */
  kfree(q);
  kfree(r);
  svc_disconnect(&c);
  return rc;
}

int settings_load(struct mn_settings *s) {
  settings_defaults(s);
  char *buf = kmalloc(SETTINGS_TEXT_MAX);
  if (!buf) return MN_ENOMEM;
  int n = plat_settings_get(buf, SETTINGS_TEXT_MAX);
  int from_disk = 0;
  if (n == MN_ENOENT || n == MN_ENOTSUP) { /* nothing there: the disk's copy? */
    int m = mirror_io(0, buf, SETTINGS_TEXT_MAX);
    if (m > 0 && m < SETTINGS_TEXT_MAX) {
      n = m;
      from_disk = 1;
    }
  }
  int rc = 0;
  if (n == MN_ENOENT || n == MN_ENOTSUP) {
    rc = MN_ENOENT;
  } else if (n < 0) {
    klog(LOG_WARN, "settings: cannot read the store (%s): using the defaults", mn_strerror(n));
    rc = n == MN_ENOSPC ? MN_EFORMAT : n;
  } else {
    char why[96];
    rc = settings_from_toml(s, buf, (size_t)n, why, sizeof why);
    if (rc) klog(LOG_WARN, "settings: the saved settings%s are corrupt (%s): using the defaults",
                 from_disk ? " in " MIRROR_PATH : "", why);
  }
  for (size_t i = 0; i < SETTINGS_TEXT_MAX; i++) ((volatile char *)buf)[i] = 0;
  kfree(buf);
  return rc;
}

int settings_save(const struct mn_settings *s) {
  char *buf = kmalloc(SETTINGS_TEXT_MAX);
  if (!buf) return MN_ENOMEM;
  int n = settings_to_toml(s, buf, SETTINGS_TEXT_MAX);
  int rc = n < 0 ? n : plat_settings_put(buf, (size_t)n);
  /* The disk's copy. Anyone can CAT a file, so it holds the API key only
   * when the platform has no store of its own to keep it in. */
  if (n >= 0 && rc != MN_ENOTSUP && s->api_key[0]) {
    struct mn_settings *pub = kmalloc(sizeof *pub);
    n = pub ? 0 : MN_ENOMEM;
    if (pub) {
      *pub = *s;
      memset(pub->api_key, 0, sizeof pub->api_key);
      n = settings_to_toml(pub, buf, SETTINGS_TEXT_MAX);
      for (size_t i = 0; i < sizeof *pub; i++) ((volatile char *)pub)[i] = 0;
      kfree(pub);
    }
  }
  int m = n < 0 ? n : mirror_io(1, buf, (size_t)n);
  if (m < 0 && m != MN_ENOTSUP) klog(LOG_WARN, "settings: %s not written: %s", MIRROR_PATH, mn_strerror(m));
  if (rc == MN_ENOTSUP && m >= 0) rc = 0;
  /* the text holds the key: not left behind in the heap */
  for (size_t i = 0; i < SETTINGS_TEXT_MAX; i++) ((volatile char *)buf)[i] = 0;
  kfree(buf);
  if (rc && rc != MN_ENOSPC && rc != MN_ENOTSUP) rc = MN_EIO;
  return rc;
}
