/*
 * chat_store.c: conversations as bytes and back (chat_session.h).
 *
 *   mneme-chats 1\n
 *   conv ID NTURNS TITLELEN\n TITLE \n
 *   turn ROLE FLAGS LEN\n TEXT \n        (NTURNS times)
 *   ...
 *   end\n
 *
 * Lengths make any byte safe in titles and texts. The decoder trusts
 * nothing: every number is bounded, a mismatch anywhere is MN_EFORMAT
 * and nothing is kept.
 *
 * Interface: chat_store_encode, chat_store_decode, chat_conv_free,
 * chat_turn_append, chat_conv_add_turn.
 */
#include <string.h>

#include "mneme/chat_session.h"
#include "mneme/err.h"
#include "mneme/kmem.h"

void chat_conv_free(struct chat_conv *c) {
  if (!c) return;
  for (uint32_t i = 0; i < c->n; i++) kfree(c->turns[i].text);
  kfree(c->turns);
  kfree(c);
}

int chat_turn_append(struct chat_turn *t, const char *s, size_t n) {
  if (t->len + n > CHAT_TEXT_MAX) return MN_ENOSPC;
  if (t->len + n + 1 > t->cap) {
    uint32_t cap = t->cap ? t->cap : 64;
    while (cap < t->len + n + 1) cap *= 2;
    char *p = kmalloc(cap);
    if (!p) return MN_ENOMEM;
    if (t->len) memcpy(p, t->text, t->len);
    kfree(t->text);
    t->text = p;
    t->cap = cap;
  }
  memcpy(t->text + t->len, s, n);
  t->len += (uint32_t)n;
  t->text[t->len] = 0;
  return 0;
}

struct chat_turn *chat_conv_add_turn(struct chat_conv *c, int role) {
  if (c->n == c->cap) {
    uint32_t cap = c->cap ? c->cap * 2 : 8;
    struct chat_turn *t = kmalloc(cap * sizeof *t);
    if (!t) return NULL;
    if (c->n) memcpy(t, c->turns, c->n * sizeof *t);
    kfree(c->turns);
    c->turns = t;
    c->cap = cap;
  }
  struct chat_turn *t = &c->turns[c->n++];
  memset(t, 0, sizeof *t);
  t->role = (uint8_t)role;
  return t;
}

/* ---- encode --------------------------------------------------------- */

struct wr {
  char *p;
  size_t cap, len;
  int full;
};

static void w(struct wr *o, const char *s, size_t n) {
  if (o->len + n > o->cap) {
    o->full = 1;
    return;
  }
  memcpy(o->p + o->len, s, n);
  o->len += n;
}

static void wnum(struct wr *o, uint64_t v) {
  char b[24];
  int i = 24;
  do b[--i] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  w(o, b + i, (size_t)(24 - i));
}

static void wstr(struct wr *o, const char *s) { w(o, s, strlen(s)); }

static void encode_one(struct wr *o, const struct chat_conv *c) {
  size_t tl = strnlen(c->title, sizeof c->title);
  wstr(o, "conv ");
  wnum(o, c->id);
  wstr(o, " ");
  wnum(o, c->n);
  wstr(o, " ");
  wnum(o, tl);
  wstr(o, "\n");
  w(o, c->title, tl);
  wstr(o, "\n");
  for (uint32_t i = 0; i < c->n; i++) {
    const struct chat_turn *t = &c->turns[i];
    wstr(o, "turn ");
    wnum(o, t->role);
    wstr(o, " ");
    wnum(o, t->flags);
    wstr(o, " ");
    wnum(o, t->len);
    wstr(o, "\n");
    w(o, t->text ? t->text : "", t->len);
    wstr(o, "\n");
  }
}

size_t chat_store_encode(struct chat_conv *const *convs, unsigned n, char *out, size_t cap,
                         unsigned *written) {
  struct wr o = {out, cap, 0, 0};
  static const char head[] = "mneme-chats 1\n", tail[] = "end\n";
  *written = 0;
  if (cap < sizeof head - 1 + sizeof tail - 1) return 0;
  o.cap = cap - (sizeof tail - 1);
  w(&o, head, sizeof head - 1);
  /* newest first: by stamp, a selection each round (n is small) */
  uint8_t done[CHAT_MAX_CONVS] = {0};
  for (unsigned k = 0; k < n && k < CHAT_MAX_CONVS; k++) {
    int best = -1;
    for (unsigned i = 0; i < n && i < CHAT_MAX_CONVS; i++)
      if (!done[i] && (best < 0 || convs[i]->stamp > convs[best]->stamp)) best = (int)i;
    if (best < 0) break;
    done[best] = 1;
    if (!convs[best]->n) continue; /* nothing said yet: not worth keeping */
    size_t mark = o.len;
    o.full = 0;
    encode_one(&o, convs[best]);
    if (o.full) {
      o.len = mark; /* does not fit: skipped, older ones may still */
      continue;
    }
    (*written)++;
  }
  o.cap = cap;
  o.full = 0;
  w(&o, tail, sizeof tail - 1);
  return o.len;
}

/* ---- decode --------------------------------------------------------- */

struct rd {
  const char *p;
  size_t len, pos;
};

static int lit(struct rd *r, const char *s) {
  size_t n = strlen(s);
  if (r->len - r->pos < n || memcmp(r->p + r->pos, s, n)) return -1;
  r->pos += n;
  return 0;
}

static int num(struct rd *r, uint64_t max, uint64_t *v) {
  uint64_t x = 0;
  size_t d = 0;
  while (r->pos < r->len && r->p[r->pos] >= '0' && r->p[r->pos] <= '9') {
    x = x * 10 + (uint64_t)(r->p[r->pos++] - '0');
    if (++d > 10 || x > max) return -1;
  }
  if (!d) return -1;
  *v = x;
  return 0;
}

static int bytes(struct rd *r, size_t n, const char **s) {
  if (r->len - r->pos < n + 1 || r->p[r->pos + n] != '\n') return -1;
  *s = r->p + r->pos;
  r->pos += n + 1;
  return 0;
}

static int decode_one(struct rd *r, struct chat_conv **out) {
  uint64_t id, nt, tl;
  const char *s;
  if (lit(r, "conv ") || num(r, 0xffffffffu, &id) || lit(r, " ") || num(r, 100000, &nt) ||
      lit(r, " ") || num(r, CHAT_TITLE_MAX - 1, &tl) || lit(r, "\n") || bytes(r, tl, &s))
    return MN_EFORMAT;
  struct chat_conv *c = kmalloc(sizeof *c);
  if (!c) return MN_ENOMEM;
  memset(c, 0, sizeof *c);
  c->id = (uint32_t)id;
  memcpy(c->title, s, tl);
  int rc = 0;
  for (uint64_t i = 0; i < nt && !rc; i++) {
    uint64_t role, flags, len;
    if (lit(r, "turn ") || num(r, LLM_ROLE_ASSISTANT, &role) || lit(r, " ") ||
        num(r, 3, &flags) || lit(r, " ") || num(r, CHAT_TEXT_MAX, &len) || lit(r, "\n") ||
        bytes(r, len, &s)) {
      rc = MN_EFORMAT;
      break;
    }
    struct chat_turn *t = chat_conv_add_turn(c, (int)role);
    if (!t) {
      rc = MN_ENOMEM;
      break;
    }
    t->flags = (uint8_t)flags;
    rc = chat_turn_append(t, s, len);
    if (!rc && !len) rc = chat_turn_append(t, "", 0);
  }
  if (rc) {
    chat_conv_free(c);
    return rc;
  }
  *out = c;
  return 0;
}

int chat_store_decode(const char *in, size_t len, struct chat_conv **convs, unsigned max) {
  struct rd r = {in, len, 0};
  unsigned n = 0;
  int rc = 0;
  if (lit(&r, "mneme-chats 1\n")) return MN_EFORMAT;
  for (;;) {
    if (!lit(&r, "end\n")) {
      if (r.pos != r.len) rc = MN_EFORMAT;
      break;
    }
    struct chat_conv *c;
    if (n == max || (rc = decode_one(&r, &c))) {
      if (!rc) rc = MN_EFORMAT;
      break;
    }
    /* two conversations with one id: refused */
    for (unsigned i = 0; i < n; i++)
      if (convs[i]->id == c->id) rc = MN_EFORMAT;
    convs[n++] = c;
    if (rc) break;
  }
  if (rc) {
    for (unsigned i = 0; i < n; i++) chat_conv_free(convs[i]);
    return rc;
  }
  return (int)n;
}
