/*
 * detok.c: token ids back to text.
 *
 * tok_piece gives one token's bytes: SentencePiece tokens with U+2581
 * turned back into spaces, <0xNN> byte tokens as their byte, byte-level
 * BPE characters as the bytes they stand for, control tokens only on
 * request. The stream functions turn a run of pieces into valid UTF-8,
 * holding back a character split across tokens until it completes.
 *
 * Interface:
 *   tok_piece, tok_stream_put, tok_stream_flush
 */
#include <mneme/err.h>
#include <mneme/tokenizer.h>

#include "libc.h"
#include "utf8.h"

static int
hexval(char c)
{
  return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
       : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* SPM: U+2581 back to spaces. */
static int
spm_piece(const struct tok_entry *v, char *out, size_t cap)
{
  size_t m = 0;
  for (uint32_t i = 0; i < v->len; m++) {
    if (m >= cap)
      return MN_ENOSPC;
    if (v->len - i >= 3 && memcmp(v->text + i, "\xe2\x96\x81", 3) == 0)
      out[m] = ' ', i += 3;
    else
      out[m] = v->text[i++];
  }
  return (int)m;
}

/* BPE: byte-level characters back to the bytes they stand for. */
static int
bpe_piece(const struct tok_entry *v, char *out, size_t cap)
{
  size_t m = 0;
  for (size_t i = 0; i < v->len;) {
    size_t at = i;
    int b = bytelevel_to_byte(utf8_get((const uint8_t *)v->text, v->len, &i));
    size_t k = b >= 0 ? 1 : i - at; /* not a byte character: copy it */
    if (m + k > cap)
      return MN_ENOSPC;
    if (b >= 0)
      out[m] = (char)b;
    else
      memcpy(out + m, v->text + at, k);
    m += k;
  }
  return (int)m;
}

int
tok_piece(const struct tokenizer *t, int32_t id, unsigned flags, char *out,
          size_t cap)
{
  if (id < 0 || (uint32_t)id >= t->n_vocab)
    return MN_ERANGE;
  const struct tok_entry *v = &t->vocab[id];
  int special = v->type == TOK_T_CONTROL || v->type == TOK_T_UNKNOWN;
  if (v->type == TOK_T_USER || (special && (flags & TOK_SHOW_SPECIAL))) {
    if (v->len > cap)
      return MN_ENOSPC;
    memcpy(out, v->text, v->len);
    return (int)v->len;
  }
  if (v->type == TOK_T_BYTE && t->kind == TOK_SPM && v->len == 6 &&
      hexval(v->text[3]) >= 0 && hexval(v->text[4]) >= 0) {
    if (cap < 1)
      return MN_ENOSPC;
    out[0] = (char)(hexval(v->text[3]) << 4 | hexval(v->text[4]));
    return 1;
  }
  if (v->type != TOK_T_NORMAL)
    return 0; /* control without TOK_SHOW_SPECIAL, unused, undefined */
  return t->kind == TOK_SPM ? spm_piece(v, out, cap) : bpe_piece(v, out, cap);
}

static size_t
put_fffd(char *out)
{
  memcpy(out, "\xef\xbf\xbd", 3);
  return 3;
}

/* Feeds one byte to the stream; writes completed output to out. */
static size_t
stream_byte(struct tok_stream *st, uint8_t c, char *out)
{
  uint8_t lo, hi;
  size_t m = 0;
  if (st->n_pend) {
    int need = utf8_need(st->pend[0], &lo, &hi);
    if (st->n_pend > 1)
      lo = 0x80, hi = 0xbf;
    if (c >= lo && c <= hi) {
      st->pend[st->n_pend++] = c;
      if (st->n_pend == need + 1) {
        memcpy(out, st->pend, st->n_pend);
        m = st->n_pend;
        st->n_pend = 0;
      }
      return m;
    }
    m = put_fffd(out); /* the pending sequence is broken */
    st->n_pend = 0;
  }
  int need = utf8_need(c, &lo, &hi);
  if (need == 0)
    out[m++] = (char)c;
  else if (need < 0)
    m += put_fffd(out + m);
  else
    st->pend[st->n_pend++] = c;
  return m;
}

int
tok_stream_put(const struct tokenizer *t, struct tok_stream *st, int32_t id,
               unsigned flags, char *out, size_t cap)
{
  /* The piece goes into the top third of out and is filtered down to the
   * bottom: each byte read yields at most 3 bytes (plus 9 for what was
   * pending), so with the piece at offset >= 2 * its length + 12 the
   * writes never catch up with the reads. */
  if (cap < 15)
    return MN_ENOSPC;
  size_t room = (cap - 12) / 3, off = cap - room;
  int n = tok_piece(t, id, flags, out + off, room);
  if (n < 0)
    return n;
  size_t m = 0;
  for (int i = 0; i < n; i++)
    m += stream_byte(st, (uint8_t)out[off + i], out + m);
  return (int)m;
}

int
tok_stream_flush(struct tok_stream *st, char *out, size_t cap)
{
  if (!st->n_pend)
    return 0;
  if (cap < 3)
    return MN_ENOSPC;
  st->n_pend = 0;
  return (int)put_fffd(out);
}
