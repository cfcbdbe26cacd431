/*
 * json.c: JSON string escaping/unescaping, the caller's output buffer, and
 * the jsmn parser (Debian libjsmn-dev, header-only: compiled here once).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mneme/err.h"
#include "mneme/llmapi.h"
#include "json_tok.h"

/* The freestanding builds cannot search /usr/include (glibc is there):
 * llmapi/module.mk names the header's path instead. */
#ifdef LLMAPI_JSMN_H
#include LLMAPI_JSMN_H
#else
#include <jsmn.h>
#endif

void
llm_buf_init(struct llm_buf *b, char *mem, size_t cap)
{
  b->p = mem;
  b->len = 0;
  b->cap = cap;
  b->err = 0;
}

void
llm_buf_put(struct llm_buf *b, const char *s, size_t n)
{
  size_t room = b->cap - b->len;
  if (n > room) {
    n = room;
    b->err = MN_ENOSPC;
  }
  if (n)
    memcpy(b->p + b->len, s, n);
  b->len += n;
}

void
llm_buf_puts(struct llm_buf *b, const char *s)
{
  llm_buf_put(b, s, strlen(s));
}

/* Length of the valid UTF-8 character at s (n bytes available), 0 if the
 * bytes are not one (or it is incomplete). */
size_t
llm_utf8_len(const unsigned char *s, size_t n)
{
  unsigned c = s[0];
  size_t need;
  uint32_t cp;
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf) { need = 2; cp = c & 0x1f; }
  else if (c >= 0xe0 && c <= 0xef) { need = 3; cp = c & 0x0f; }
  else if (c >= 0xf0 && c <= 0xf4) { need = 4; cp = c & 0x07; }
  else return 0;
  if (n < need)
    return 0;
  for (size_t i = 1; i < need; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
      (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    return 0;
  return need;
}

static const char hexd[] = "0123456789abcdef";

void
llm_json_escape(struct llm_buf *b, const char *s, size_t n)
{
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    unsigned c = u[i];
    char esc[6];
    if (c == '"' || c == '\\') {
      esc[0] = '\\'; esc[1] = (char)c;
      llm_buf_put(b, esc, 2);
      i++;
    } else if (c < 0x20) {
      const char *short_esc = NULL;
      switch (c) {
      case '\n': short_esc = "\\n"; break;
      case '\r': short_esc = "\\r"; break;
      case '\t': short_esc = "\\t"; break;
      case '\b': short_esc = "\\b"; break;
      case '\f': short_esc = "\\f"; break;
      }
      if (short_esc) {
        llm_buf_put(b, short_esc, 2);
      } else {
        esc[0] = '\\'; esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
        esc[4] = hexd[c >> 4]; esc[5] = hexd[c & 15];
        llm_buf_put(b, esc, 6);
      }
      i++;
    } else if (c < 0x80) {
      size_t j = i;
      while (j < n && u[j] >= 0x20 && u[j] < 0x80 && u[j] != '"' && u[j] != '\\')
        j++;
      llm_buf_put(b, s + i, j - i);
      i = j;
    } else {
      size_t l = llm_utf8_len(u + i, n - i);
      if (l) {
        llm_buf_put(b, s + i, l);
        i += l;
      } else {
        llm_buf_put(b, "\\ufffd", 6);
        i++;
      }
    }
  }
}

static int
hex4(const char *s, uint32_t *v)
{
  uint32_t x = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    x <<= 4;
    if (c >= '0' && c <= '9') x |= (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f') x |= (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') x |= (uint32_t)(c - 'A' + 10);
    else return -1;
  }
  *v = x;
  return 0;
}

static void
put_cp(struct llm_buf *out, uint32_t cp)
{
  char u[4];
  size_t n;
  if (cp < 0x80) { u[0] = (char)cp; n = 1; }
  else if (cp < 0x800) { u[0] = (char)(0xc0 | (cp >> 6)); u[1] = (char)(0x80 | (cp & 0x3f)); n = 2; }
  else if (cp < 0x10000) {
    u[0] = (char)(0xe0 | (cp >> 12)); u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    u[2] = (char)(0x80 | (cp & 0x3f)); n = 3;
  } else {
    u[0] = (char)(0xf0 | (cp >> 18)); u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); u[3] = (char)(0x80 | (cp & 0x3f)); n = 4;
  }
  llm_buf_put(out, u, n);
}

int
llm_json_unescape(const char *s, size_t n, struct llm_buf *out)
{
  size_t i = 0;
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20)
      return MN_EDECODE;
    if (c != '\\') {
      size_t j = i;
      while (j < n && s[j] != '\\' && (unsigned char)s[j] >= 0x20)
        j++;
      llm_buf_put(out, s + i, j - i);
      i = j;
      continue;
    }
    if (i + 1 >= n)
      return MN_EDECODE;
    char e = s[i + 1];
    i += 2;
    switch (e) {
    case '"': llm_buf_put(out, "\"", 1); break;
    case '\\': llm_buf_put(out, "\\", 1); break;
    case '/': llm_buf_put(out, "/", 1); break;
    case 'b': llm_buf_put(out, "\b", 1); break;
    case 'f': llm_buf_put(out, "\f", 1); break;
    case 'n': llm_buf_put(out, "\n", 1); break;
    case 'r': llm_buf_put(out, "\r", 1); break;
    case 't': llm_buf_put(out, "\t", 1); break;
    case 'u': {
      uint32_t cp, lo;
      if (i + 4 > n || hex4(s + i, &cp))
        return MN_EDECODE;
      i += 4;
      if (cp >= 0xd800 && cp <= 0xdbff) {
        if (i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u' && !hex4(s + i + 2, &lo) &&
            lo >= 0xdc00 && lo <= 0xdfff) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          i += 6;
        } else {
          cp = 0xfffd;
        }
      } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        cp = 0xfffd;
      }
      put_cp(out, cp);
      break;
    }
    default:
      return MN_EDECODE;
    }
  }
  return out->err ? out->err : MN_OK;
}

/* ---- token helpers (llmapi/json_tok.h) --------------------------------- */

_Static_assert(sizeof(jsmntok_t) == 4 * sizeof(int),
               "llm_stream.tokmem holds 4 ints per jsmn token");

int
llm_jparse(const char *js, size_t len, void *tokmem, int max)
{
  jsmn_parser p;
  jsmn_init(&p);
  int n = jsmn_parse(&p, js, len, (jsmntok_t *)tokmem, (unsigned)max);
  if (n == JSMN_ERROR_NOMEM)
    return MN_ENOSPC;
  if (n < 1)
    return MN_EDECODE;
  return n;
}

/* Index just after the value at i (its whole subtree). */
int
llm_jskip(const struct llm_jdoc *d, int i)
{
  const jsmntok_t *t = (const jsmntok_t *)d->tok;
  int pending = 1;
  while (pending > 0) {
    if (i >= d->n)
      return d->n;
    pending += t[i].size;
    pending--;
    i++;
  }
  return i;
}

int
llm_jtype(const struct llm_jdoc *d, int i)
{
  const jsmntok_t *t = (const jsmntok_t *)d->tok;
  if (i < 0 || i >= d->n)
    return LLM_J_NONE;
  switch (t[i].type) {
  case JSMN_OBJECT: return LLM_J_OBJECT;
  case JSMN_ARRAY: return LLM_J_ARRAY;
  case JSMN_STRING: return LLM_J_STRING;
  case JSMN_PRIMITIVE:
    return d->js[t[i].start] == 'n' ? LLM_J_NULL :
           (d->js[t[i].start] == 't' || d->js[t[i].start] == 'f') ? LLM_J_BOOL : LLM_J_NUMBER;
  default: return LLM_J_NONE;
  }
}

const char *
llm_jraw(const struct llm_jdoc *d, int i, size_t *len)
{
  const jsmntok_t *t = (const jsmntok_t *)d->tok;
  *len = (size_t)(t[i].end - t[i].start);
  return d->js + t[i].start;
}

int
llm_jget(const struct llm_jdoc *d, int obj, const char *key)
{
  const jsmntok_t *t = (const jsmntok_t *)d->tok;
  if (llm_jtype(d, obj) != LLM_J_OBJECT)
    return -1;
  size_t kl = strlen(key);
  int nkeys = t[obj].size;
  int i = obj + 1;
  for (int k = 0; k < nkeys && i < d->n; k++) {
    int v = i + 1;
    if (v >= d->n)
      return -1;
    if (t[i].type == JSMN_STRING && (size_t)(t[i].end - t[i].start) == kl &&
        memcmp(d->js + t[i].start, key, kl) == 0)
      return v;
    i = llm_jskip(d, v);
  }
  return -1;
}

int
llm_jindex(const struct llm_jdoc *d, int arr, int idx)
{
  const jsmntok_t *t = (const jsmntok_t *)d->tok;
  if (llm_jtype(d, arr) != LLM_J_ARRAY || idx < 0 || idx >= t[arr].size)
    return -1;
  int i = arr + 1;
  for (int k = 0; k < idx; k++)
    i = llm_jskip(d, i);
  return i < d->n ? i : -1;
}

int
llm_jlen(const struct llm_jdoc *d, int i)
{
  const jsmntok_t *t = (const jsmntok_t *)d->tok;
  return (i >= 0 && i < d->n) ? t[i].size : 0;
}

int
llm_jstr(const struct llm_jdoc *d, int i, struct llm_buf *out)
{
  if (llm_jtype(d, i) != LLM_J_STRING)
    return MN_EDECODE;
  size_t n;
  const char *s = llm_jraw(d, i, &n);
  return llm_json_unescape(s, n, out);
}

int
llm_jstr_eq(const struct llm_jdoc *d, int i, const char *lit)
{
  if (llm_jtype(d, i) != LLM_J_STRING)
    return 0;
  size_t n;
  const char *s = llm_jraw(d, i, &n);
  return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

int
llm_juint(const struct llm_jdoc *d, int i, uint32_t *v)
{
  if (llm_jtype(d, i) != LLM_J_NUMBER)
    return MN_EDECODE;
  size_t n;
  const char *s = llm_jraw(d, i, &n);
  uint64_t x = 0;
  size_t k = 0;
  for (; k < n && s[k] >= '0' && s[k] <= '9'; k++) {
    x = x * 10 + (uint64_t)(s[k] - '0');
    if (x > UINT32_MAX)
      return MN_EOVERFLOW;
  }
  if (k == 0)
    return MN_EDECODE;
  *v = (uint32_t)x;
  return MN_OK;
}
