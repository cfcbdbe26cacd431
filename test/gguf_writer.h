/*
 * gguf_writer.h: a tiny in-memory GGUF writer for tests and fuzz seeds.
 *
 * Not a library: every function is static inline and grows a malloc'ed
 * buffer, which test code frees with free(w.buf). Numbers are written
 * little-endian byte by byte, so the bytes do not depend on the host.
 *
 *   struct gw w = {0};
 *   gw_header(&w, 3, n_tensors, n_kv);
 *   gw_kv_u32(&w, "general.alignment", 32);
 *   gw_tensor(&w, "t", 2, (uint64_t[]){4, 2}, GGML_TYPE_F32, 0);
 *   gw_pad(&w, 32); gw_bytes(&w, data, 32);
 */
#ifndef MNEME_TEST_GGUF_WRITER_H
#define MNEME_TEST_GGUF_WRITER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mneme/gguf.h>

struct gw {
  uint8_t *buf;
  size_t len, cap;
};

static inline void
gw_bytes(struct gw *w, const void *p, size_t n)
{
  if (w->len + n > w->cap) {
    w->cap = (w->len + n) * 2 + 64;
    w->buf = realloc(w->buf, w->cap);
    if (!w->buf)
      abort();
  }
  if (n)
    memcpy(w->buf + w->len, p, n);
  w->len += n;
}

static inline void
gw_le(struct gw *w, uint64_t v, int n)
{
  for (int i = 0; i < n; i++) {
    uint8_t b = (uint8_t)(v >> (8 * i));
    gw_bytes(w, &b, 1);
  }
}

static inline void gw_u8(struct gw *w, uint8_t v) { gw_le(w, v, 1); }
static inline void gw_u32(struct gw *w, uint32_t v) { gw_le(w, v, 4); }
static inline void gw_u64(struct gw *w, uint64_t v) { gw_le(w, v, 8); }

static inline void
gw_f32(struct gw *w, float f)
{
  uint32_t u;
  memcpy(&u, &f, 4);
  gw_u32(w, u);
}

static inline void
gw_strn(struct gw *w, const char *s, size_t n)
{
  gw_u64(w, n);
  gw_bytes(w, s, n);
}

static inline void gw_str(struct gw *w, const char *s) { gw_strn(w, s, strlen(s)); }

static inline void
gw_header(struct gw *w, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
  gw_bytes(w, "GGUF", 4);
  gw_u32(w, version);
  gw_u64(w, n_tensors);
  gw_u64(w, n_kv);
}

/* A key and its value type; the caller writes the value. */
static inline void
gw_key(struct gw *w, const char *key, uint32_t type)
{
  gw_str(w, key);
  gw_u32(w, type);
}

static inline void
gw_kv_u32(struct gw *w, const char *key, uint32_t v)
{
  gw_key(w, key, GGUF_VT_U32);
  gw_u32(w, v);
}

static inline void
gw_kv_i32(struct gw *w, const char *key, int32_t v)
{
  gw_key(w, key, GGUF_VT_I32);
  gw_u32(w, (uint32_t)v);
}

static inline void
gw_kv_f32(struct gw *w, const char *key, float v)
{
  gw_key(w, key, GGUF_VT_F32);
  gw_f32(w, v);
}

static inline void
gw_kv_bool(struct gw *w, const char *key, int v)
{
  gw_key(w, key, GGUF_VT_BOOL);
  gw_u8(w, (uint8_t)v);
}

static inline void
gw_kv_str(struct gw *w, const char *key, const char *v)
{
  gw_key(w, key, GGUF_VT_STR);
  gw_str(w, v);
}

/* An array key: its header; the caller writes `n` elements. */
static inline void
gw_kv_arr(struct gw *w, const char *key, uint32_t elem, uint64_t n)
{
  gw_key(w, key, GGUF_VT_ARR);
  gw_u32(w, elem);
  gw_u64(w, n);
}

static inline void
gw_tensor(struct gw *w, const char *name, uint32_t n_dims,
          const uint64_t *ne, uint32_t type, uint64_t offset)
{
  gw_str(w, name);
  gw_u32(w, n_dims);
  for (uint32_t i = 0; i < n_dims; i++)
    gw_u64(w, ne[i]);
  gw_u32(w, type);
  gw_u64(w, offset);
}

static inline void
gw_pad(struct gw *w, size_t align)
{
  while (w->len % align)
    gw_u8(w, 0);
}

#endif
