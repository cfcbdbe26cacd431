/*
 * chat_session.c: the chat's portable core (chat_session.h): the
 * conversations, the reply in progress over the `llm` interface, the
 * status figures, and where conversations are saved.
 *
 * Backend: provider "local" (or none chosen) is llm-local; any other
 * provider is llm-remote, configured from the settings at init (when
 * llm-remote is part of the build: llm_remote_start is a weak reference
 * here, so the chat links with or without it).
 *
 * Store: with the files service and a /boot volume, /boot/chats.txt;
 * otherwise the platform's blob (plat_chats_*: a UEFI variable on
 * x86_64), holding the newest conversations that fit; status.store says
 * which and how many.
 *
 * Interface: chat_session_init, chat_session_fini, chat_current,
 * chat_conv_new/switch/rename/delete, chat_send, chat_poll, chat_cancel,
 * chat_save, chat_retry_left.
 */
#include <string.h>

#include "mneme/chat_session.h"
#include "mneme/err.h"
#include "mneme/fat.h"
#include "mneme/files.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"

#define RING_SIZE 4096
#define STORE_PATH "/boot/chats.txt"
#define STORE_NEW "/boot/chats.new"  /* written whole, then renamed over STORE_PATH */
#define STORE_MAX (256u * 1024u)   /* the file: at most this much */
#define VAR_MAX_DEFAULT (16u * 1024u)
#define DEFAULT_MAX_TOKENS 256

/* llm-remote, when it is linked in (branch llmremote). */
int llm_remote_start(const struct llm_remote_config *cfg) __attribute__((weak));
const struct uuid LLM_REMOTE_UUID __attribute__((weak)) = {
    {0x2f, 0x8c, 0x5b, 0x1e, 0x6d, 0x0a, 0x4c, 0x4b, 0x9a, 0x8e, 0x3b, 0x1f, 0x7d, 0x2c, 0x9e, 0x02}};

static void copy(char *dst, size_t cap, const char *src) {
  size_t n = 0;
  while (n + 1 < cap && src[n]) n++;
  memcpy(dst, src, n);
  dst[n] = 0;
}

/* ---- store ------------------------------------------------------------ */

static int disk_present(struct svc_client *c) {
  if (files_connect(c)) return 0;
  struct files_req *q = kmalloc(sizeof *q);
  struct files_resp *r = kmalloc(sizeof *r);
  int ok = 0;
  if (q && r) {
    memset(q, 0, sizeof *q);
    q->kind = FILES_SPACE;
    copy(q->path, sizeof q->path, "/boot");
    ok = files_call(c, q, r) == 0;
  }
  kfree(q);
  kfree(r);
  if (!ok) svc_disconnect(c);
  return ok;
}

/* Reads or writes the whole file path. Returns bytes read / 0, or MN_E*. */
static int disk_io(struct svc_client *c, int write, const char *path, char *buf, size_t len) {
  struct files_req *q = kmalloc(sizeof *q);
  struct files_resp *r = kmalloc(sizeof *r);
  int rc = MN_ENOMEM;
  if (!q || !r) goto out;
  memset(q, 0, sizeof *q);
  q->kind = FILES_OPEN;
  q->flags = write ? FAT_WRITE | FAT_CREATE | FAT_TRUNC : FAT_READ;
  copy(q->path, sizeof q->path, path);
  if ((rc = files_call(c, q, r))) goto out;
  uint32_t h = r->handle;
  size_t done = 0;
  while (done < len) {
    memset(q, 0, sizeof *q);
    q->kind = write ? FILES_WRITE : FILES_READ;
    q->handle = h;
    q->len = (uint32_t)(len - done > 65536 ? 65536 : len - done);
    q->buf = buf + done;
    if ((rc = files_call(c, q, r))) break;
    if (!r->value) break;
    done += r->value;
  }
  memset(q, 0, sizeof *q);
  q->kind = FILES_CLOSE;
  q->handle = h;
  int rc2 = files_call(c, q, r);
  if (!rc) rc = rc2;
  if (!rc && write) {
    memset(q, 0, sizeof *q);
    q->kind = FILES_SYNC;
    rc = files_call(c, q, r);
  }
  if (!rc) rc = (int)done;
out:
  kfree(q);
  kfree(r);
  return rc;
}

/* Replaces the store file so that a crash leaves the old conversations or
 * the new ones: the new file written whole (committed at its close), the
 * old one removed, the new one renamed (load_convs falls back to
 * STORE_NEW when STORE_PATH is missing). */
static int disk_save(struct svc_client *c, char *buf, size_t len) {
  int rc = disk_io(c, 1, STORE_NEW, buf, len);
  if (rc < 0) return rc;
  struct files_req *q = kmalloc(sizeof *q);
  struct files_resp *r = kmalloc(sizeof *r);
  rc = MN_ENOMEM;
  if (q && r) {
    memset(q, 0, sizeof *q);
    q->kind = FILES_UNLINK;
    copy(q->path, sizeof q->path, STORE_PATH);
    rc = files_call(c, q, r);
    if (rc == MN_ENOENT) rc = 0;
    if (!rc) {
      memset(q, 0, sizeof *q);
      q->kind = FILES_RENAME;
      copy(q->path, sizeof q->path, STORE_NEW);
      copy(q->path2, sizeof q->path2, STORE_PATH);
      rc = files_call(c, q, r);
    }
    if (!rc) {
      memset(q, 0, sizeof *q);
      q->kind = FILES_SYNC;
      rc = files_call(c, q, r);
    }
  }
  kfree(q);
  kfree(r);
  return rc;
}

static void load_convs(struct chat_session *cs) {
  struct svc_client c;
  int disk = disk_present(&c);
  size_t cap = disk ? STORE_MAX : VAR_MAX_DEFAULT * 4;
  char *buf = kmalloc(cap);
  int n = MN_ENOMEM;
  if (buf) n = disk ? disk_io(&c, 0, STORE_PATH, buf, cap) : plat_chats_get(buf, cap);
  /* a crash between removing the old file and renaming the new one */
  if (buf && disk && n == MN_ENOENT) n = disk_io(&c, 0, STORE_NEW, buf, cap);
  if (disk) svc_disconnect(&c);
  if (n > 0) {
    int k = chat_store_decode(buf, (size_t)n, cs->convs, CHAT_MAX_CONVS);
    if (k < 0) {
      klog(LOG_WARN, "chat: the saved conversations are corrupt (%s): starting afresh",
           mn_strerror(k));
    } else {
      cs->n = (unsigned)k;
      /* stamps: the file lists the newest first; the list shows them in
       * the order they were made (by id) */
      for (unsigned i = 0; i < cs->n; i++) {
        cs->convs[i]->stamp = cs->n - i;
        if (cs->convs[i]->id >= cs->next_id) cs->next_id = cs->convs[i]->id + 1;
      }
      for (unsigned i = 1; i < cs->n; i++)
        for (unsigned j = i; j > 0 && cs->convs[j - 1]->id > cs->convs[j]->id; j--) {
          struct chat_conv *t = cs->convs[j];
          cs->convs[j] = cs->convs[j - 1];
          cs->convs[j - 1] = t;
        }
      cs->clock = cs->n + 1;
    }
  }
  kfree(buf);
  ksnprintf(cs->status.store, sizeof cs->status.store, disk ? "disk %s" : "%s",
            disk ? STORE_PATH : (plat_chats_cap() ? plat_chats_where() : "memory only"));
}

int chat_save(struct chat_session *cs) {
  struct svc_client c;
  int disk = disk_present(&c);
  size_t cap = disk ? STORE_MAX : plat_chats_cap();
  if (!cap) {
    if (disk) svc_disconnect(&c);
    copy(cs->status.store, sizeof cs->status.store, "memory only");
    return MN_ENOTSUP;
  }
  char *buf = kmalloc(cap);
  if (!buf) {
    if (disk) svc_disconnect(&c);
    return MN_ENOMEM;
  }
  unsigned written = 0;
  size_t len = chat_store_encode(cs->convs, cs->n, buf, cap, &written);
  int rc = disk ? disk_save(&c, buf, len) : plat_chats_put(buf, len);
  if (rc > 0) rc = 0;
  if (disk) svc_disconnect(&c);
  kfree(buf);
  unsigned kept = 0;
  for (unsigned i = 0; i < cs->n; i++) kept += cs->convs[i]->n != 0;
  if (disk)
    ksnprintf(cs->status.store, sizeof cs->status.store, "disk %s", STORE_PATH);
  else
    ksnprintf(cs->status.store, sizeof cs->status.store, "%s (%u of %u)", plat_chats_where(),
              written, kept);
  if (rc) klog(LOG_WARN, "chat: saving the conversations: %s", mn_strerror(rc));
  return rc;
}

/* ---- conversations ------------------------------------------------------ */

struct chat_conv *chat_current(struct chat_session *cs) {
  return cs->n ? cs->convs[cs->cur] : NULL;
}

int chat_conv_new(struct chat_session *cs) {
  if (cs->state != CHAT_IDLE) return MN_EBUSY;
  if (cs->n == CHAT_MAX_CONVS) return MN_ENOSPC;
  struct chat_conv *c = kmalloc(sizeof *c);
  if (!c) return MN_ENOMEM;
  memset(c, 0, sizeof *c);
  c->id = cs->next_id++;
  ksnprintf(c->title, sizeof c->title, "chat %u", (unsigned)c->id);
  c->stamp = ++cs->clock;
  cs->convs[cs->n] = c;
  cs->cur = cs->n++;
  return (int)cs->cur;
}

int chat_conv_switch(struct chat_session *cs, unsigned idx) {
  if (cs->state != CHAT_IDLE) return MN_EBUSY;
  if (idx >= cs->n) return MN_ERANGE;
  cs->cur = idx;
  return 0;
}

int chat_conv_rename(struct chat_session *cs, unsigned idx, const char *title, size_t len) {
  if (idx >= cs->n) return MN_ERANGE;
  struct chat_conv *c = cs->convs[idx];
  while (len && (title[len - 1] == '\n' || title[len - 1] == ' ')) len--;
  if (!len) return MN_EINVAL;
  if (len > sizeof c->title - 1) len = sizeof c->title - 1;
  while (len && ((uint8_t)title[len] & 0xc0) == 0x80) len--; /* whole characters */
  memset(c->title, 0, sizeof c->title);
  for (size_t i = 0; i < len; i++)
    c->title[i] = (uint8_t)title[i] < 0x20 ? ' ' : title[i];
  c->stamp = ++cs->clock;
  return 0;
}

int chat_conv_delete(struct chat_session *cs, unsigned idx) {
  if (cs->state != CHAT_IDLE) return MN_EBUSY;
  if (idx >= cs->n) return MN_ERANGE;
  chat_conv_free(cs->convs[idx]);
  memmove(&cs->convs[idx], &cs->convs[idx + 1], (cs->n - idx - 1) * sizeof cs->convs[0]);
  cs->n--;
  if (cs->cur >= cs->n) cs->cur = cs->n ? cs->n - 1 : 0;
  else if (cs->cur > idx) cs->cur--;
  if (!cs->n) chat_conv_new(cs);
  return 0;
}

/* ---- backend ------------------------------------------------------------ */

int chat_remote_start(const struct mn_settings *s) {
  if (!llm_remote_start) return MN_ENOTSUP;
  struct llm_remote_config rc = {
      .provider = s->provider, .base_url = s->base_url, .api_key = s->api_key,
      .model = s->model, .system = s->system[0] ? s->system : NULL,
      .temperature = s->temperature, .max_tokens = s->max_tokens, .stream = 1};
  return llm_remote_start(&rc);
}

void chat_tool_describe(const struct mn_settings *s, char *out, size_t cap) {
  if (!s->tool_forth)
    ksnprintf(out, cap, "forth tool: off (the model cannot run code)");
  else
    ksnprintf(out, cap, "forth tool: on; network %s, files %s",
              s->tool_network ? "allowed" : "not allowed", s->tool_files ? "allowed" : "not allowed");
}

int chat_tool_set(struct chat_session *cs, const char *arg) {
  while (*arg == ' ') arg++;
  static const char *const words[] = {"off", "on", "sandbox", "network", "files", "all"};
  unsigned w = 0;
  while (w < 6 && strcmp(arg, words[w])) w++;
  if (w == 6) return MN_EINVAL;
  struct mn_settings *s = kmalloc(sizeof *s);
  if (!s) return MN_ENOMEM;
  settings_load(s);
  s->tool_forth = w != 0;
  if (w == 2) s->tool_network = s->tool_files = 0;
  if (w == 3 || w == 5) s->tool_network = 1;
  if (w == 4 || w == 5) s->tool_files = 1;
  int rc = settings_save(s);
  cs->settings.tool_forth = s->tool_forth;
  cs->settings.tool_network = s->tool_network;
  cs->settings.tool_files = s->tool_files;
  for (size_t i = 0; i < sizeof *s; i++) ((volatile char *)s)[i] = 0;
  kfree(s);
  return rc;
}

static void choose_backend(struct chat_session *cs) {
  const struct mn_settings *s = &cs->settings;
  cs->use_remote = s->provider[0] && strcmp(s->provider, "local") != 0;
  copy(cs->status.backend, sizeof cs->status.backend, cs->use_remote ? "llm-remote" : "llm-local");
  copy(cs->status.provider, sizeof cs->status.provider, s->provider[0] ? s->provider : "local");
  copy(cs->status.model, sizeof cs->status.model, s->model[0] ? s->model : "(the loaded model)");
  if (cs->use_remote) {
    if (!llm_remote_start) {
      klog(LOG_WARN, "chat: provider %s needs llm-remote, which is not part of this build",
           s->provider);
      return;
    }
    int err = chat_remote_start(s);
    if (err) klog(LOG_WARN, "chat: llm-remote: %s", mn_strerror(err));
  }
}

int chat_session_init(struct chat_session *cs) {
  memset(cs, 0, sizeof *cs);
  cs->next_id = 1;
  settings_load(&cs->settings);
  choose_backend(cs);
  load_convs(cs);
  if (!cs->n && chat_conv_new(cs) < 0) return MN_ENOMEM;
  /* the newest conversation is current */
  for (unsigned i = 0; i < cs->n; i++)
    if (cs->convs[i]->stamp > cs->convs[cs->cur]->stamp) cs->cur = i;
  return 0;
}

static void end_reply(struct chat_session *cs) {
  if (cs->connected) svc_disconnect(&cs->client);
  cs->connected = 0;
  kchannel_destroy(&cs->ch);
  bbq_destroy(&cs->ring);
  kfree(cs->reply);
  kfree(cs->msgs);
  cs->reply = NULL;
  cs->msgs = NULL;
  cs->state = CHAT_IDLE;
}

void chat_session_fini(struct chat_session *cs) {
  if (cs->state != CHAT_IDLE) {
    struct chat_event ev;
    chat_cancel(cs);
    while (cs->state != CHAT_IDLE) chat_poll(cs, MN_SEC(1), &ev);
  }
  chat_save(cs);
  for (unsigned i = 0; i < cs->n; i++) chat_conv_free(cs->convs[i]);
  cs->n = 0;
  for (size_t i = 0; i < sizeof cs->settings.api_key; i++)
    ((volatile char *)cs->settings.api_key)[i] = 0;
}

uint32_t chat_retry_left(const struct chat_session *cs) {
  uint64_t now = ktime_now();
  if (!cs->status.retry_until_ns || now >= cs->status.retry_until_ns) return 0;
  return (uint32_t)((cs->status.retry_until_ns - now + 999999999u) / 1000000000u);
}

/* "retry after 17 s", "Retry-After: 17", "retry in 17": the seconds in a
 * provider's message (llm-remote puts the header's value there). */
static uint32_t retry_seconds(const char *m) {
  for (const char *p = m; *p; p++) {
    if ((p[0] | 0x20) != 'r' || (p[1] | 0x20) != 'e' || (p[2] | 0x20) != 't' ||
        (p[3] | 0x20) != 'r' || (p[4] | 0x20) != 'y')
      continue;
    const char *q = p + 5;
    for (int k = 0; k < 8 && *q && (*q < '0' || *q > '9'); k++) q++;
    uint32_t v = 0;
    int d = 0;
    while (*q >= '0' && *q <= '9' && d < 6) v = v * 10 + (uint32_t)(*q++ - '0'), d++;
    if (d) return v;
  }
  return 0;
}

/* The conversation as llm messages: the system prompt, then every turn
 * but failed ones and the empty assistant turn at the end; tool segments
 * are left out of what is sent back. */
static size_t build_messages(struct chat_session *cs, struct chat_conv *c) {
  size_t n = 0;
  if (cs->settings.system[0])
    cs->msgs[n++] = (struct llm_message){LLM_ROLE_SYSTEM, cs->settings.system,
                                         strlen(cs->settings.system)};
  for (uint32_t i = 0; i + 1 < c->n; i++) {
    const struct chat_turn *t = &c->turns[i];
    if (t->flags & CHAT_TURN_ERROR) continue;
    const char *mk = t->len ? memchr(t->text, LLM_MARK_CODE, t->len) : NULL;
    size_t len = mk ? (size_t)(mk - t->text) : t->len;
    if (!len && t->role == LLM_ROLE_ASSISTANT) continue;
    cs->msgs[n++] = (struct llm_message){t->role, t->text ? t->text : "", len};
  }
  return n;
}

static int fail_send(struct chat_session *cs, struct chat_turn *t, int err, const char *msg) {
  cs->status.error = err;
  copy(cs->status.message, sizeof cs->status.message, msg && *msg ? msg : mn_strerror(err));
  t->flags |= CHAT_TURN_ERROR;
  chat_turn_append(t, cs->status.message, strlen(cs->status.message));
  return err;
}

int chat_send(struct chat_session *cs, const char *text, size_t len) {
  if (cs->state != CHAT_IDLE) return MN_EBUSY;
  while (len && (text[len - 1] == '\n' || text[len - 1] == '\r')) len--;
  if (!len) return MN_EINVAL;
  struct chat_conv *c = chat_current(cs);
  if (!c) return MN_ENOMEM;
  struct chat_turn *u = chat_conv_add_turn(c, LLM_ROLE_USER);
  if (!u) return MN_ENOMEM;
  if (chat_turn_append(u, text, len)) {
    c->n--;
    return MN_ENOMEM;
  }
  if (c->n == 1) chat_conv_rename(cs, cs->cur, text, len); /* titled by its first line */
  c->stamp = ++cs->clock;
  struct chat_turn *a = chat_conv_add_turn(c, LLM_ROLE_ASSISTANT);
  if (!a || chat_turn_append(a, "", 0)) return MN_ENOMEM;
  cs->status.tokens = 0;
  cs->status.tok_per_s_x10 = 0;
  cs->status.ttft_ns = 0;
  cs->status.finish = LLM_FINISH_NONE;
  cs->status.error = 0;
  cs->status.message[0] = 0;
  uint32_t left = chat_retry_left(cs);
  if (left) {
    char m[64];
    ksnprintf(m, sizeof m, "the provider asked to wait: retry in %u s", left);
    return fail_send(cs, a, MN_EBUSY, m);
  }
  cs->status.retry_after_s = 0;
  cs->status.retry_until_ns = 0;
  static const struct svc_type type = LLM_SVC_TYPE;
  struct llm_error e;
  memset(&e, 0, sizeof e);
  const struct uuid *id = cs->use_remote ? &LLM_REMOTE_UUID : &LLM_LOCAL_UUID;
  int rc = svc_connect(id, &type, NULL, &e, MN_SEC(1), &cs->client);
  if (rc) {
    char m[96];
    ksnprintf(m, sizeof m, "%s: %s", cs->status.backend,
              rc == MN_ENOENT || rc == MN_ETIMEDOUT
                  ? (cs->use_remote ? "not running (check the provider settings)" : "no model loaded")
                  : e.message[0] ? e.message : mn_strerror(rc));
    return fail_send(cs, a, rc, m);
  }
  cs->connected = 1;
  size_t rsize = svc_reply_size(&type);
  cs->reply = kmalloc(rsize);
  cs->msgs = kmalloc((c->n + 1) * sizeof *cs->msgs);
  int have_ring = 0;
  if (!cs->reply || !cs->msgs || bbq_init(&cs->ring, RING_SIZE)) goto nomem;
  have_ring = 1;
  if (kchannel_init(&cs->ch, rsize, 1)) goto nomem;
  struct llm_request q;
  memset(&q, 0, sizeof q);
  q.op = LLM_OP_GENERATE;
  q.flags = cs->settings.tool_forth && cs->use_remote ? LLM_TOOLS : 0;
  if (q.flags && cs->settings.tool_network) q.flags |= LLM_TOOL_NET;
  if (q.flags && cs->settings.tool_files) q.flags |= LLM_TOOL_FILES;
  q.max_tokens = cs->settings.max_tokens ? cs->settings.max_tokens : DEFAULT_MAX_TOKENS;
  q.messages = cs->msgs;
  q.n_messages = build_messages(cs, c);
  llm_sampling_default(&q.sampling);
  if (cs->settings.temperature >= 0) q.sampling.temperature = cs->settings.temperature;
  q.sampling.seed = ktime_now();
  q.out = &cs->ring;
  uint32_t rid;
  cs->state = CHAT_WAITING;
  cs->t_send = cs->t_last = ktime_now();
  cs->t_first = 0;
  if ((rc = svc_send(&cs->client, &q, &cs->ch, &rid, MN_SEC(5)))) {
    end_reply(cs);
    return fail_send(cs, a, rc, NULL);
  }
  return 0;
nomem:
  if (have_ring) bbq_destroy(&cs->ring);
  kfree(cs->reply);
  kfree(cs->msgs);
  cs->reply = NULL;
  cs->msgs = NULL;
  svc_disconnect(&cs->client);
  cs->connected = 0;
  return fail_send(cs, a, MN_ENOMEM, NULL);
}

void chat_cancel(struct chat_session *cs) {
  if (cs->state != CHAT_IDLE) bbq_close(&cs->ring);
}

/* The reply after the stream: finish, usage or the error. */
static void finish(struct chat_session *cs, struct chat_event *ev) {
  struct chat_conv *c = chat_current(cs);
  struct chat_turn *a = &c->turns[c->n - 1];
  int rc = kchannel_recv(&cs->ch, cs->reply, MN_SEC(30));
  const struct svc_reply *r = (const struct svc_reply *)cs->reply;
  if (rc) {
    cs->status.error = rc;
    copy(cs->status.message, sizeof cs->status.message, "no answer from the backend");
  } else if (r->status == MN_ESERVICE) {
    const struct llm_error *le = (const void *)r->body;
    cs->status.error = le->code;
    copy(cs->status.message, sizeof cs->status.message,
         le->message[0] ? le->message : mn_strerror(le->code));
    cs->status.retry_after_s = le->retry_after_s ? le->retry_after_s : retry_seconds(cs->status.message);
    if (cs->status.retry_after_s)
      cs->status.retry_until_ns = ktime_now() + MN_SEC(cs->status.retry_after_s);
  } else if (r->status) {
    cs->status.error = r->status;
    copy(cs->status.message, sizeof cs->status.message, mn_strerror(r->status));
  } else {
    const struct llm_response *lr = (const void *)r->body;
    cs->status.finish = lr->finish;
    cs->status.tokens = lr->usage.completion_tokens;
    uint32_t steps = lr->usage.completion_tokens > 1 ? lr->usage.completion_tokens - 1 : 0;
    uint64_t gen = lr->usage.generate_ns;
    if (!gen && cs->t_first && cs->t_last > cs->t_first) gen = cs->t_last - cs->t_first;
    cs->status.tok_per_s_x10 = gen ? (uint32_t)((uint64_t)steps * 10000000000ull / gen) : 0;
    if (lr->finish == LLM_FINISH_CANCELLED || lr->finish == LLM_FINISH_ERROR ||
        lr->finish == LLM_FINISH_LENGTH)
      a->flags |= CHAT_TURN_PARTIAL;
  }
  if (cs->status.error) {
    if (!a->len) {
      a->flags |= CHAT_TURN_ERROR;
      chat_turn_append(a, cs->status.message, strlen(cs->status.message));
    } else {
      a->flags |= CHAT_TURN_PARTIAL; /* dropped midway: the text so far is kept */
    }
  }
  cs->status.ttft_ns = cs->t_first ? cs->t_first - cs->t_send : 0;
  c->stamp = ++cs->clock;
  end_reply(cs);
  ev->kind = CHAT_EV_DONE;
}

int chat_poll(struct chat_session *cs, uint64_t timeout_ns, struct chat_event *ev) {
  memset(ev, 0, sizeof *ev);
  if (cs->state == CHAT_IDLE) {
    ev->kind = CHAT_EV_DONE;
    return 0;
  }
  struct chat_conv *c = chat_current(cs);
  struct chat_turn *a = &c->turns[c->n - 1];
  const uint8_t *p;
  size_t got;
  int rc = bbq_read_grant(&cs->ring, timeout_ns, &p, &got);
  if (rc == MN_ETIMEDOUT) return 0;
  if (rc) {
    finish(cs, ev);
    return 0;
  }
  cs->t_last = ktime_now();
  if (!cs->t_first) cs->t_first = cs->t_last;
  cs->state = CHAT_STREAMING;
  uint32_t before = a->len;
  if (chat_turn_append(a, (const char *)p, got)) {
    bbq_release(&cs->ring, got);
    chat_cancel(cs); /* the turn is full: stop */
    return 0;
  }
  bbq_release(&cs->ring, got);
  ev->kind = CHAT_EV_TEXT;
  ev->text = a->text + before;
  ev->len = got;
  return 0;
}
