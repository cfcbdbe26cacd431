/*
 * tokenizer.c: SentencePiece-style and byte-level BPE tokenizers built
 * from GGUF metadata, following llama.cpp's algorithms so that the ids
 * match it exactly.
 *
 * Encoding runs in three steps:
 *  1. partition: the text of special tokens (control tokens when parsing
 *     specials, user-defined tokens always) is cut out, longest first;
 *  2. each remaining fragment is tokenized:
 *     SPM: spaces become U+2581 (plus one leading space after the start
 *          or a special token), characters are symbols, and the adjacent
 *          pair whose concatenation is the best-scoring token is merged
 *          until none is left; leftovers become byte tokens <0xNN>;
 *     BPE: the pre-tokenizer (pretok.c) splits words, each byte of a word
 *          is a symbol (its byte-level character token), and the pair with
 *          the lowest merge rank is merged until none is left;
 *  3. BOS/EOS are added as the vocabulary asks.
 * Both merge loops use a binary heap of candidate pairs ordered by
 * priority, then by position (leftmost first), skipping stale pairs.
 *
 * Interface:
 *   tok_init, tok_free      load from GGUF / release the tables
 *   tok_lookup              text -> id
 *   tok_encode              text -> ids
 *   tok_is_eog              end-of-generation ids (EOS, EOT)
 * Decoding (tok_piece, tok_stream_*) is in detok.c.
 */
#include <mneme/err.h>
#include <mneme/tokenizer.h>

#include "libc.h"
#include "pretok.h"
#include "utf8.h"

/* Bound on tokens and merges (real vocabularies have up to ~260k), so
 * that a hostile file cannot ask for gigabytes of tables. */
#define TOK_MAX_VOCAB (1u << 22)

struct tok_merge {
  int32_t a, b; /* left and right token ids; a = -1: empty slot */
  int32_t rank; /* position in tokenizer.ggml.merges */
  int32_t id;   /* token of the concatenation, -1 if none */
};

/* ---- hashing and allocation ---------------------------------------------- */

static uint32_t
fnv(uint32_t h, const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

static uint32_t
pair_hash(int32_t a, int32_t b)
{
  uint64_t x = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return (uint32_t)x;
}

/* Table size: a power of two at least twice n. */
static uint32_t
table_size(uint32_t n)
{
  uint32_t s = 16;
  while (s < 2 * n)
    s *= 2;
  return s;
}

static void *
talloc(const struct tokenizer *t, size_t n)
{
  return t->alloc.alloc(t->alloc.ctx, n ? n : 1);
}

/* Id of the token whose text is a (alen bytes) followed by b; -1 if none. */
static int32_t
lookup2(const struct tokenizer *t, const char *a, size_t alen, const char *b,
        size_t blen)
{
  uint32_t h = fnv(fnv(2166136261u, a, alen), b, blen);
  for (uint32_t i = h & t->index_mask;; i = (i + 1) & t->index_mask) {
    uint32_t id = t->index[i];
    if (id == UINT32_MAX)
      return -1;
    const struct tok_entry *e = &t->vocab[id];
    if (e->len == alen + blen && memcmp(e->text, a, alen) == 0 &&
        memcmp(e->text + alen, b, blen) == 0)
      return (int32_t)id;
  }
}

int32_t
tok_lookup(const struct tokenizer *t, const char *s, size_t len)
{
  return lookup2(t, s, len, "", 0);
}

static const struct tok_merge *
merge_find(const struct tokenizer *t, int32_t a, int32_t b)
{
  if (a < 0 || b < 0 || !t->merges)
    return NULL;
  for (uint32_t i = pair_hash(a, b) & t->merge_mask;;
       i = (i + 1) & t->merge_mask) {
    const struct tok_merge *m = &t->merges[i];
    if (m->a < 0)
      return NULL;
    if (m->a == a && m->b == b)
      return m;
  }
}

/* C's isspace in the "C" locale, as llama.cpp strips with it. */
static int
is_cspace(char c)
{
  return c == ' ' || (c >= '\t' && c <= '\r');
}

static const char *
find(const char *s, size_t n, const char *w, size_t wn)
{
  for (size_t i = 0; i + wn <= n; i++)
    if (s[i] == w[0] && memcmp(s + i, w, wn) == 0)
      return s + i;
  return NULL;
}

/* ---- loading ----------------------------------------------------------------- */

static int
load_vocab(struct tokenizer *t, const struct gguf_file *f)
{
  struct gguf_value toks, scores, types;
  if (gguf_find(f, "tokenizer.ggml.tokens", &toks))
    return MN_ENOENT;
  if (toks.type != GGUF_VT_ARR || toks.elem != GGUF_VT_STR || toks.n == 0 ||
      toks.n > TOK_MAX_VOCAB)
    return MN_EFORMAT;
  t->n_vocab = (uint32_t)toks.n;
  int has_scores = gguf_get_arr(f, "tokenizer.ggml.scores", GGUF_VT_F32, &scores) == 0;
  int has_types = gguf_get_arr(f, "tokenizer.ggml.token_type", GGUF_VT_I32, &types) == 0;
  if ((has_scores && scores.n != toks.n) || (has_types && types.n != toks.n))
    return MN_EFORMAT;
  t->vocab = talloc(t, sizeof *t->vocab * t->n_vocab);
  t->index_mask = table_size(t->n_vocab) - 1;
  t->index = talloc(t, sizeof *t->index * (t->index_mask + 1));
  if (!t->vocab || !t->index)
    return MN_ENOMEM;
  memset(t->index, 0xff, sizeof *t->index * (t->index_mask + 1));
  struct gguf_iter it;
  struct gguf_value s;
  gguf_iter_init(&it, &toks);
  for (uint32_t id = 0; gguf_iter_next(&it, &s) == 0; id++) {
    struct tok_entry *e = &t->vocab[id];
    if (s.n > UINT32_MAX)
      return MN_EFORMAT;
    e->text = (const char *)s.p;
    e->len = (uint32_t)s.n;
    e->score = has_scores ? gguf_arr_f32(&scores, id) : 0.0f;
    int32_t ty = has_types ? gguf_arr_i32(&types, id) : TOK_T_NORMAL;
    e->type = ty >= 0 && ty <= TOK_T_BYTE ? (uint8_t)ty : TOK_T_UNDEFINED;
    e->strip = 0;
    /* Insert; a later duplicate text replaces the earlier id. */
    uint32_t i = fnv(2166136261u, e->text, e->len) & t->index_mask;
    for (;; i = (i + 1) & t->index_mask) {
      uint32_t o = t->index[i];
      if (o == UINT32_MAX || (t->vocab[o].len == e->len &&
                              memcmp(t->vocab[o].text, e->text, e->len) == 0))
        break;
    }
    t->index[i] = id;
  }
  return 0;
}

/* Parses "left right" merges into (left id, right id) -> rank, result. */
static int
load_merges(struct tokenizer *t, const struct gguf_file *f)
{
  struct gguf_value m, s;
  if (gguf_get_arr(f, "tokenizer.ggml.merges", GGUF_VT_STR, &m))
    return MN_ENOENT;
  if (m.n > TOK_MAX_VOCAB)
    return MN_EFORMAT;
  t->merge_mask = table_size((uint32_t)m.n) - 1;
  t->merges = talloc(t, sizeof *t->merges * (t->merge_mask + 1));
  if (!t->merges)
    return MN_ENOMEM;
  for (uint32_t i = 0; i <= t->merge_mask; i++)
    t->merges[i].a = -1;
  struct gguf_iter it;
  gguf_iter_init(&it, &m);
  for (int32_t rank = 0; gguf_iter_next(&it, &s) == 0; rank++) {
    const char *p = (const char *)s.p;
    size_t sp = 1;
    while (sp < s.n && p[sp] != ' ')
      sp++;
    if (sp >= s.n)
      continue; /* no separator: unusable */
    int32_t a = tok_lookup(t, p, sp), b = tok_lookup(t, p + sp + 1, s.n - sp - 1);
    if (a < 0 || b < 0)
      continue; /* parts that are not tokens can never be symbols here */
    uint32_t i = pair_hash(a, b) & t->merge_mask;
    while (t->merges[i].a >= 0 && !(t->merges[i].a == a && t->merges[i].b == b))
      i = (i + 1) & t->merge_mask;
    if (t->merges[i].a >= 0)
      continue; /* duplicate: the first rank stays */
    t->merges[i] = (struct tok_merge){a, b, rank,
        lookup2(t, p, sp, p + sp + 1, s.n - sp - 1)};
    t->n_merges++;
  }
  return 0;
}

/* Special tokens (control, user-defined, unknown), longest text first. */
static int
load_special(struct tokenizer *t)
{
  uint32_t n = 0;
  for (uint32_t id = 0; id < t->n_vocab; id++) {
    int ty = t->vocab[id].type;
    n += (ty == TOK_T_CONTROL || ty == TOK_T_USER || ty == TOK_T_UNKNOWN) &&
         t->vocab[id].len > 0;
  }
  t->special = talloc(t, sizeof *t->special * n);
  if (!t->special)
    return MN_ENOMEM;
  for (uint32_t id = 0; id < t->n_vocab; id++) {
    int ty = t->vocab[id].type;
    if (!((ty == TOK_T_CONTROL || ty == TOK_T_USER || ty == TOK_T_UNKNOWN) &&
          t->vocab[id].len > 0))
      continue;
    uint32_t j = t->n_special++; /* insertion sort, stable */
    while (j > 0 && t->vocab[t->special[j - 1]].len < t->vocab[id].len) {
      t->special[j] = t->special[j - 1];
      j--;
    }
    t->special[j] = (int32_t)id;
  }
  return 0;
}

static void
load_bytes(struct tokenizer *t)
{
  static const char hex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; b++) {
    char buf[8];
    int32_t id;
    if (t->kind == TOK_SPM) {
      char c = (char)b;
      const char tmp[6] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
      id = tok_lookup(t, tmp, 6);
      if (id < 0)
        id = tok_lookup(t, &c, 1);
      if (id < 0)
        id = t->unk;
    } else {
      id = tok_lookup(t, buf, utf8_put(bytelevel_from_byte(b), buf));
    }
    t->byte_tok[b] = id;
  }
}

static int
str_is(const char *s, size_t n, const char *want)
{
  return n == strlen(want) && memcmp(s, want, n) == 0;
}

/* Reads an optional token id key into *id (ignored if out of range). */
static void
get_id(const struct tokenizer *t, const struct gguf_file *f, const char *key,
       int32_t *id)
{
  uint32_t v;
  if (gguf_get_u32(f, key, &v) == 0)
    *id = v < t->n_vocab ? (int32_t)v : -1;
}

static void
get_flag(const struct gguf_file *f, const char *key, bool *flag)
{
  bool v;
  if (gguf_get_bool(f, key, &v) == 0)
    *flag = v;
}

static int
load_pre(struct tokenizer *t, const struct gguf_file *f)
{
  const char *s = "default";
  size_t n = 7;
  gguf_get_str(f, "tokenizer.ggml.pre", &s, &n);
  if (str_is(s, n, "llama3") || str_is(s, n, "llama-v3") ||
      str_is(s, n, "llama-bpe") || str_is(s, n, "falcon3")) {
    t->pre = TOK_PRE_LLAMA3;
    t->ignore_merges = true;
    t->add_bos = true;
  } else if (str_is(s, n, "qwen2") || str_is(s, n, "deepseek-r1-qwen")) {
    t->pre = TOK_PRE_QWEN2;
  } else if (str_is(s, n, "gpt-2") || str_is(s, n, "phi-2") ||
             str_is(s, n, "default")) {
    t->pre = TOK_PRE_GPT2; /* "default": gpt-2's regex, an approximation */
  } else {
    return MN_ENOTSUP;
  }
  return 0;
}

static void
set_strip(struct tokenizer *t, const char *text, uint8_t bit, bool on)
{
  int32_t id = tok_lookup(t, text, strlen(text));
  if (id >= 0)
    t->vocab[id].strip = on ? t->vocab[id].strip | bit : t->vocab[id].strip & ~bit;
}

/* llama.cpp's per-family special token attributes, chosen by the model
 * name: phi-3's specials (but <unk>, <s>, <|endoftext|>) eat the
 * whitespace after them. */
static void
set_strips(struct tokenizer *t, const struct gguf_file *f)
{
  const char *name = "";
  size_t n = 0;
  char low[256];
  gguf_get_str(f, "general.name", &name, &n);
  if (n >= sizeof low)
    n = sizeof low - 1;
  for (size_t i = 0; i < n; i++)
    low[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] + 32) : name[i];
  low[n] = 0;
  if (find(low, n, "phi-3", 5) || find(low, n, "phi3", 4)) {
    for (uint32_t i = 0; i < t->n_special; i++)
      t->vocab[t->special[i]].strip |= TOK_RSTRIP;
    set_strip(t, "</s>", TOK_RSTRIP, true);
    set_strip(t, "<unk>", TOK_RSTRIP, false);
    set_strip(t, "<s>", TOK_RSTRIP, false);
    set_strip(t, "<|endoftext|>", TOK_RSTRIP, false);
  }
}

/* Picks the end-of-turn token: the file's, or a well-known text. */
static void
find_eot(struct tokenizer *t, const struct gguf_file *f)
{
  static const char *const names[] = {"<|eot_id|>", "<|im_end|>", "<|end|>",
                                      "<end_of_turn>", "<|endoftext|>"};
  t->eot = -1;
  get_id(t, f, "tokenizer.ggml.eot_token_id", &t->eot);
  for (size_t i = 0; t->eot < 0 && i < sizeof names / sizeof names[0]; i++) {
    int32_t id = tok_lookup(t, names[i], strlen(names[i]));
    if (id >= 0 && t->vocab[id].type == TOK_T_CONTROL)
      t->eot = id;
  }
}

int
tok_init(struct tokenizer *t, const struct gguf_file *f,
         const struct tok_alloc *a)
{
  const char *model;
  size_t n;
  memset(t, 0, sizeof *t);
  t->alloc = *a;
  if (gguf_get_str(f, "tokenizer.ggml.model", &model, &n))
    return MN_ENOENT;
  int err = 0;
  if (str_is(model, n, "llama")) {
    t->kind = TOK_SPM;
    t->bos = 1, t->eos = 2, t->unk = 0, t->pad = -1;
    t->add_bos = true, t->add_space_prefix = true;
  } else if (str_is(model, n, "gpt2")) {
    t->kind = TOK_BPE;
    t->bos = t->eos = t->unk = t->pad = -1;
    err = load_pre(t, f);
  } else {
    return MN_ENOTSUP;
  }
  if (!err)
    err = load_vocab(t, f);
  if (!err && t->kind == TOK_BPE)
    err = load_merges(t, f);
  if (!err)
    err = load_special(t);
  if (err) {
    tok_free(t);
    return err;
  }
  get_id(t, f, "tokenizer.ggml.bos_token_id", &t->bos);
  get_id(t, f, "tokenizer.ggml.eos_token_id", &t->eos);
  get_id(t, f, "tokenizer.ggml.unknown_token_id", &t->unk);
  get_id(t, f, "tokenizer.ggml.padding_token_id", &t->pad);
  int32_t *ids[] = {&t->bos, &t->eos, &t->unk, &t->pad};
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
    if (*ids[i] >= (int32_t)t->n_vocab)
      *ids[i] = -1; /* a default that this small vocabulary lacks */
  get_flag(f, "tokenizer.ggml.add_bos_token", &t->add_bos);
  get_flag(f, "tokenizer.ggml.add_eos_token", &t->add_eos);
  get_flag(f, "tokenizer.ggml.add_space_prefix", &t->add_space_prefix);
  find_eot(t, f);
  set_strips(t, f);
  load_bytes(t);
  return 0;
}

void
tok_free(struct tokenizer *t)
{
  void *p[] = {t->vocab, t->index, t->merges, t->special};
  for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
    if (p[i])
      t->alloc.free(t->alloc.ctx, p[i]);
  t->vocab = NULL, t->index = NULL, t->merges = NULL, t->special = NULL;
}

bool
tok_is_eog(const struct tokenizer *t, int32_t id)
{
  return id >= 0 && (id == t->eos || id == t->eot);
}

/* ---- encoding ----------------------------------------------------------------- */

struct sym {
  int32_t prev, next;
  uint32_t off, n; /* bytes of the text being merged */
  int32_t id;      /* BPE: token of this symbol, -1 if none */
};

struct big {
  int32_t l, r;  /* symbols */
  float pri;     /* SPM: token score; BPE: -rank. Higher first. */
  uint32_t size; /* bytes of both symbols when queued */
  int32_t id;    /* BPE: the merged token */
};

/* One tokenize call: output and scratch. */
struct enc {
  const struct tokenizer *t;
  unsigned flags;
  int32_t *ids;
  size_t cap, n;
  bool prev_special;
  char *buf;        /* escaped SPM text or one BPE word's bytes */
  char *wbuf;       /* BPE: the word as byte-level characters */
  uint32_t *cps, *ends;
  struct sym *sym;
  struct big *heap;
  size_t nheap;
};

static void
emit(struct enc *e, int32_t id)
{
  if (id < 0)
    return;
  if (e->n < e->cap)
    e->ids[e->n] = id;
  e->n++;
}

static int
big_before(const struct big *a, const struct big *b)
{
  return a->pri > b->pri || (a->pri == b->pri && a->l < b->l);
}

static void
heap_push(struct enc *e, struct big b)
{
  size_t i = e->nheap++;
  while (i > 0 && big_before(&b, &e->heap[(i - 1) / 2])) {
    e->heap[i] = e->heap[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  e->heap[i] = b;
}

static struct big
heap_pop(struct enc *e)
{
  struct big top = e->heap[0], last = e->heap[--e->nheap];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= e->nheap)
      break;
    if (c + 1 < e->nheap && big_before(&e->heap[c + 1], &e->heap[c]))
      c++;
    if (!big_before(&e->heap[c], &last))
      break;
    e->heap[i] = e->heap[c];
    i = c;
  }
  if (e->nheap)
    e->heap[i] = last;
  return top;
}

/* Queues the pair (l, r) if it forms a token (SPM) or a merge (BPE). */
static void
add_pair(struct enc *e, const char *text, int32_t l, int32_t r)
{
  if (l < 0 || r < 0)
    return;
  const struct sym *a = &e->sym[l], *b = &e->sym[r];
  struct big g = {l, r, 0, a->n + b->n, -1};
  if (e->t->kind == TOK_SPM) {
    int32_t id = tok_lookup(e->t, text + a->off, g.size);
    if (id < 0)
      return;
    g.pri = e->t->vocab[id].score;
  } else {
    const struct tok_merge *m = merge_find(e->t, a->id, b->id);
    if (!m)
      return;
    g.pri = -(float)m->rank;
    g.id = m->id;
  }
  heap_push(e, g);
}

/* Merges queued pairs of the symbols over text until none is left. */
static void
merge_all(struct enc *e, const char *text, size_t nsym)
{
  e->nheap = 0;
  for (size_t i = 1; i < nsym; i++)
    add_pair(e, text, (int32_t)i - 1, (int32_t)i);
  while (e->nheap) {
    struct big g = heap_pop(e);
    struct sym *a = &e->sym[g.l], *b = &e->sym[g.r];
    if (a->n == 0 || b->n == 0 || a->n + b->n != g.size)
      continue; /* stale: one side has changed since */
    a->n += b->n;
    b->n = 0;
    a->id = g.id;
    a->next = b->next;
    if (b->next >= 0)
      e->sym[b->next].prev = g.l;
    add_pair(e, text, a->prev, g.l);
    add_pair(e, text, g.l, a->next);
  }
}

/* Symbols over text[0..n): one per character (SPM) or byte (BPE). */
static size_t
make_syms(struct enc *e, const char *text, size_t n, int bytes)
{
  size_t k = 0;
  for (size_t off = 0; off < n; k++) {
    size_t len = bytes ? 1 : utf8_len((uint8_t)text[off]);
    if (len > n - off)
      len = n - off;
    e->sym[k] = (struct sym){(int32_t)k - 1, (int32_t)k + 1, (uint32_t)off,
                             (uint32_t)len,
                             bytes ? e->t->byte_tok[(uint8_t)text[off]] : -1};
    off += len;
  }
  if (k)
    e->sym[k - 1].next = -1;
  return k;
}

/* Emits each symbol's token, or its bytes' tokens when it has none. */
static void
emit_syms(struct enc *e, const char *text, size_t nsym)
{
  for (int32_t i = nsym ? 0 : -1; i >= 0; i = e->sym[i].next) {
    const struct sym *s = &e->sym[i];
    int32_t id = e->t->kind == TOK_SPM ? tok_lookup(e->t, text + s->off, s->n)
                                       : s->id;
    if (id >= 0) {
      emit(e, id);
      continue;
    }
    for (uint32_t j = 0; j < s->n; j++)
      emit(e, e->t->byte_tok[(uint8_t)text[s->off + j]]);
  }
}

static void
spm_fragment(struct enc *e, const char *s, size_t n)
{
  size_t m = 0;
  if (e->t->add_space_prefix && e->prev_special)
    memcpy(e->buf, "\xe2\x96\x81", 3), m = 3;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == ' ')
      memcpy(e->buf + m, "\xe2\x96\x81", 3), m += 3;
    else
      e->buf[m++] = s[i];
  }
  size_t nsym = make_syms(e, e->buf, m, 0);
  merge_all(e, e->buf, nsym);
  emit_syms(e, e->buf, nsym);
}

static void
bpe_word(struct enc *e, const uint32_t *cp, size_t ncp)
{
  size_t n = 0;
  for (size_t i = 0; i < ncp; i++)
    n += utf8_put(cp[i], e->buf + n);
  if (e->t->ignore_merges) { /* a word that is a token stays whole */
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
      m += utf8_put(bytelevel_from_byte((uint8_t)e->buf[i]), e->wbuf + m);
    int32_t id = tok_lookup(e->t, e->wbuf, m);
    if (id >= 0) {
      emit(e, id);
      return;
    }
  }
  size_t nsym = make_syms(e, e->buf, n, 1);
  merge_all(e, e->buf, nsym);
  emit_syms(e, e->buf, nsym);
}

static void
bpe_fragment(struct enc *e, const char *s, size_t n)
{
  size_t ncp = 0;
  for (size_t i = 0; i < n;)
    e->cps[ncp++] = utf8_get((const uint8_t *)s, n, &i);
  size_t nw = pretok_split(e->t->pre, e->cps, ncp, e->ends);
  for (size_t w = 0, start = 0; w < nw; start = e->ends[w++])
    bpe_word(e, e->cps + start, e->ends[w] - start);
}

static void
raw_fragment(struct enc *e, const char *s, size_t n)
{
  if (e->t->kind == TOK_SPM)
    spm_fragment(e, s, n);
  else
    bpe_fragment(e, s, n);
  e->prev_special = false;
}

/* Cuts special tokens k.. (longest first) out of s[0..n). Special tokens
 * before k are known not to occur in s. */
static void
partition(struct enc *e, const char *s, size_t n, uint32_t k)
{
  const struct tokenizer *t = e->t;
  while (n > 0) {
    const char *hit = NULL;
    const struct tok_entry *v = NULL;
    for (; k < t->n_special; k++) {
      v = &t->vocab[t->special[k]];
      if (v->type != TOK_T_USER && !(e->flags & TOK_PARSE_SPECIAL))
        continue;
      if ((hit = find(s, n, v->text, v->len)))
        break;
    }
    if (!hit) {
      raw_fragment(e, s, n);
      return;
    }
    size_t left = (size_t)(hit - s);
    if (v->strip & TOK_LSTRIP)
      while (left > 0 && is_cspace(s[left - 1]))
        left--;
    partition(e, s, left, k + 1);
    emit(e, t->special[k]);
    e->prev_special = true;
    n -= (size_t)(hit - s) + v->len;
    s = hit + v->len;
    if (v->strip & TOK_RSTRIP)
      while (n > 0 && is_cspace(*s))
        s++, n--;
  }
}

/* Scratch for a text of n bytes: one block carved into the arrays. */
static int
enc_scratch(struct enc *e, size_t n, void **block)
{
  size_t nb = 3 * n + 4; /* bytes after escaping or U+FFFD replacement */
  if (n > SIZE_MAX / 128)
    return MN_ENOMEM;
  size_t size = nb * sizeof(struct sym) + 3 * nb * sizeof(struct big) +
                2 * n * sizeof(uint32_t) + 3 * nb + 16;
  char *p = *block = talloc(e->t, size);
  if (!p)
    return MN_ENOMEM;
  e->heap = (struct big *)p, p += 3 * nb * sizeof(struct big);
  e->sym = (struct sym *)p, p += nb * sizeof(struct sym);
  e->cps = (uint32_t *)p, p += n * sizeof(uint32_t);
  e->ends = (uint32_t *)p, p += n * sizeof(uint32_t);
  e->buf = p, p += nb;
  e->wbuf = p;
  return 0;
}

int
tok_encode(const struct tokenizer *t, const char *text, size_t len,
           unsigned flags, int32_t *ids, size_t cap, size_t *n_ids)
{
  struct enc e = {.t = t, .flags = flags, .ids = ids, .cap = cap,
                  .prev_special = true};
  void *block;
  int err = enc_scratch(&e, len, &block);
  if (err)
    return err;
  if ((flags & TOK_ADD_SPECIAL) && t->add_bos)
    emit(&e, t->bos);
  partition(&e, text, len, 0);
  if ((flags & TOK_ADD_SPECIAL) && t->add_eos)
    emit(&e, t->eos);
  t->alloc.free(t->alloc.ctx, block);
  *n_ids = e.n;
  return e.n > cap ? MN_ENOSPC : 0;
}

#ifdef MN_HOSTED
#include <stdlib.h>

static void *
std_alloc(void *ctx, size_t size)
{
  (void)ctx;
  return malloc(size);
}

static void
std_free(void *ctx, void *p)
{
  (void)ctx;
  free(p);
}

const struct tok_alloc tok_malloc = {std_alloc, std_free, NULL};
#endif
