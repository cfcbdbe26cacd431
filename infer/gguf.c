/*
 * gguf.c: a zero-copy, allocation-free GGUF reader (versions 2 and 3).
 *
 * gguf_open() walks the whole file once with a bounds-checked cursor:
 * header, every key/value pair (nested arrays to a fixed depth), every
 * tensor info, then the tensor data ranges. Every read first checks that
 * the bytes exist, and every size computation checks for overflow, so a
 * truncated or hostile file yields an error code and a message, never an
 * out-of-bounds read. Later lookups re-walk the validated bytes with the
 * same cursor code.
 *
 * Interface:
 *   gguf_open            validate a file held in memory
 *   gguf_find, gguf_kv_at, gguf_get_{u32,i32,u64,f32,bool,str,arr}
 *   gguf_value_i64, gguf_value_f64, gguf_arr_{u8,u32,i32,f32}
 *   gguf_iter_init, gguf_iter_next      walk any array
 *   gguf_find_tensor, gguf_tensor_at, gguf_tensor_nelem
 *   ggml_block_elems, ggml_block_bytes, ggml_row_bytes, ggml_type_name,
 *   gguf_vtype_name
 */
#include <mneme/gguf.h>
#include <mneme/err.h>

#include "libc.h"

#define MAX_NEST 8 /* arrays of arrays of ... at most this deep */

/* ---- bounds-checked cursor ----------------------------------------------- */

struct cur {
  const uint8_t *buf;
  size_t size, pos;
  const char *msg; /* first error */
  size_t err_pos;
};

static int
fail(struct cur *c, int err, const char *msg)
{
  if (!c->msg) {
    c->msg = msg;
    c->err_pos = c->pos;
  }
  return err;
}

static uint64_t
le(const uint8_t *p, int n)
{
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

/* Takes n bytes; returns a pointer to them or NULL if they are not there. */
static const uint8_t *
take(struct cur *c, uint64_t n)
{
  if (n > c->size - c->pos)
    return NULL;
  const uint8_t *p = c->buf + c->pos;
  c->pos += (size_t)n;
  return p;
}

static int
rd(struct cur *c, int n, uint64_t *v, const char *what)
{
  const uint8_t *p = take(c, (uint64_t)n);
  if (!p)
    return fail(c, MN_ETRUNC, what);
  *v = le(p, n);
  return 0;
}

/* A GGUF string: u64 length then bytes. */
static int
rd_str(struct cur *c, const char **s, uint64_t *len, const char *what)
{
  int err = rd(c, 8, len, what);
  if (err)
    return err;
  const uint8_t *p = take(c, *len);
  if (!p)
    return fail(c, MN_ETRUNC, what);
  *s = (const char *)p;
  return 0;
}

/* ---- metadata values ------------------------------------------------------ */

static const uint8_t vt_size[GGUF_VT_COUNT] = {
  [GGUF_VT_U8] = 1, [GGUF_VT_I8] = 1, [GGUF_VT_U16] = 2, [GGUF_VT_I16] = 2,
  [GGUF_VT_U32] = 4, [GGUF_VT_I32] = 4, [GGUF_VT_F32] = 4,
  [GGUF_VT_BOOL] = 1, [GGUF_VT_U64] = 8, [GGUF_VT_I64] = 8,
  [GGUF_VT_F64] = 8,
};

static int rd_value(struct cur *c, uint32_t type, struct gguf_value *v,
                    int depth, int check);

/* Reads the body of an array (after its u32 type and u64 count). */
static int
rd_array(struct cur *c, struct gguf_value *v, int depth, int check)
{
  uint32_t et = v->elem;
  if (et >= GGUF_VT_COUNT)
    return fail(c, MN_EFORMAT, "bad array element type");
  if (et == GGUF_VT_ARR && depth >= MAX_NEST)
    return fail(c, MN_EFORMAT, "arrays nested too deep");
  v->p = c->buf + c->pos;
  if (vt_size[et]) {
    if (v->n > (c->size - c->pos) / vt_size[et])
      return fail(c, MN_ETRUNC, "array runs past the end of the file");
    const uint8_t *p = take(c, v->n * vt_size[et]);
    if (check && et == GGUF_VT_BOOL)
      for (uint64_t i = 0; i < v->n; i++)
        if (p[i] > 1)
          return fail(c, MN_EFORMAT, "bool array element not 0 or 1");
    return 0;
  }
  for (uint64_t i = 0; i < v->n; i++) {
    struct gguf_value e;
    int err = rd_value(c, et, &e, depth + 1, check);
    if (err)
      return err;
  }
  return 0;
}

/* Reads one value of type `type` at the cursor into *v. `check` enables
 * the checks that only gguf_open needs (bool range). */
static int
rd_value(struct cur *c, uint32_t type, struct gguf_value *v, int depth,
         int check)
{
  size_t start = c->pos;
  int err = 0;
  uint64_t x = 0;
  v->type = type;
  v->elem = 0;
  v->n = 1;
  if (type >= GGUF_VT_COUNT)
    return fail(c, MN_EFORMAT, "bad value type");
  if (type == GGUF_VT_STR) {
    const char *s;
    err = rd_str(c, &s, &v->n, "string runs past the end of the file");
    v->p = (const uint8_t *)s;
  } else if (type == GGUF_VT_ARR) {
    err = rd(c, 4, &x, "truncated array header");
    if (!err)
      err = rd(c, 8, &v->n, "truncated array header");
    v->elem = (uint32_t)x;
    if (!err)
      err = rd_array(c, v, depth, check);
  } else {
    v->p = take(c, vt_size[type]);
    if (!v->p)
      return fail(c, MN_ETRUNC, "value runs past the end of the file");
    if (check && type == GGUF_VT_BOOL && v->p[0] > 1)
      return fail(c, MN_EFORMAT, "bool value not 0 or 1");
  }
  v->size = c->pos - start;
  return err;
}

/* Reads one key/value pair. */
static int
rd_kv(struct cur *c, const char **key, uint64_t *key_len,
      struct gguf_value *v, int check)
{
  uint64_t t;
  int err = rd_str(c, key, key_len, "key runs past the end of the file");
  if (!err)
    err = rd(c, 4, &t, "truncated value type");
  if (!err)
    err = rd_value(c, (uint32_t)t, v, 0, check);
  return err;
}

/* ---- type traits ---------------------------------------------------------- */

struct type_info {
  const char *name;
  uint16_t elems, bytes;
};

static const struct type_info types[GGML_TYPE_COUNT] = {
  [GGML_TYPE_F32] = {"F32", 1, 4},       [GGML_TYPE_F16] = {"F16", 1, 2},
  [GGML_TYPE_Q4_0] = {"Q4_0", 32, 18},   [GGML_TYPE_Q4_1] = {"Q4_1", 32, 20},
  [GGML_TYPE_Q5_0] = {"Q5_0", 32, 22},   [GGML_TYPE_Q5_1] = {"Q5_1", 32, 24},
  [GGML_TYPE_Q8_0] = {"Q8_0", 32, 34},   [GGML_TYPE_Q8_1] = {"Q8_1", 32, 36},
  [GGML_TYPE_Q2_K] = {"Q2_K", 256, 84},  [GGML_TYPE_Q3_K] = {"Q3_K", 256, 110},
  [GGML_TYPE_Q4_K] = {"Q4_K", 256, 144}, [GGML_TYPE_Q5_K] = {"Q5_K", 256, 176},
  [GGML_TYPE_Q6_K] = {"Q6_K", 256, 210}, [GGML_TYPE_Q8_K] = {"Q8_K", 256, 292},
  [GGML_TYPE_I8] = {"I8", 1, 1},         [GGML_TYPE_I16] = {"I16", 1, 2},
  [GGML_TYPE_I32] = {"I32", 1, 4},       [GGML_TYPE_I64] = {"I64", 1, 8},
  [GGML_TYPE_F64] = {"F64", 1, 8},       [GGML_TYPE_BF16] = {"BF16", 1, 2},
};

uint32_t
ggml_block_elems(uint32_t type)
{
  return type < GGML_TYPE_COUNT ? types[type].elems : 0;
}

uint32_t
ggml_block_bytes(uint32_t type)
{
  return type < GGML_TYPE_COUNT ? types[type].bytes : 0;
}

uint64_t
ggml_row_bytes(uint32_t type, uint64_t n)
{
  uint32_t be = ggml_block_elems(type);
  if (!be || n % be || n / be > UINT64_MAX / ggml_block_bytes(type))
    return 0;
  return n / be * ggml_block_bytes(type);
}

const char *
ggml_type_name(uint32_t type)
{
  const char *s = type < GGML_TYPE_COUNT ? types[type].name : NULL;
  return s ? s : "?";
}

const char *
gguf_vtype_name(uint32_t type)
{
  static const char *const names[GGUF_VT_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string",
    "array", "u64", "i64", "f64",
  };
  return type < GGUF_VT_COUNT ? names[type] : "?";
}

/* ---- tensor infos --------------------------------------------------------- */

/* Multiplies *acc by x; returns -1 on overflow of 63 bits. */
static int
mul_ok(uint64_t *acc, uint64_t x)
{
  if (x && *acc > (uint64_t)INT64_MAX / x)
    return -1;
  *acc *= x;
  return 0;
}

/* Reads the header part of a tensor info and its sizes (no data range). */
static int
rd_tensor(struct cur *c, struct gguf_tensor *t)
{
  uint64_t len, x;
  int err = rd_str(c, &t->name, &len, "tensor name runs past the end");
  if (err)
    return err;
  t->name_len = (size_t)len;
  if (len > GGUF_MAX_NAME)
    return fail(c, MN_EFORMAT, "tensor name longer than 64 bytes");
  if ((err = rd(c, 4, &x, "truncated tensor info")))
    return err;
  if (x > GGUF_MAX_DIMS)
    return fail(c, MN_EFORMAT, "tensor has more than 4 dimensions");
  t->n_dims = (uint32_t)x;
  for (int i = 0; i < GGUF_MAX_DIMS; i++)
    t->ne[i] = 1;
  for (uint32_t i = 0; i < t->n_dims; i++)
    if ((err = rd(c, 8, &t->ne[i], "truncated tensor dimensions")))
      return err;
  if ((err = rd(c, 4, &x, "truncated tensor info")))
    return err;
  t->type = (uint32_t)x;
  return rd(c, 8, &t->offset, "truncated tensor info");
}

/* Checks type and shape and computes t->nbytes. */
static int
tensor_size(struct cur *c, struct gguf_tensor *t)
{
  uint64_t n = 1;
  if (!ggml_block_elems(t->type))
    return fail(c, MN_ENOTSUP, "unknown tensor type");
  for (int i = 0; i < GGUF_MAX_DIMS; i++)
    if (t->ne[i] > (uint64_t)INT64_MAX || mul_ok(&n, t->ne[i]))
      return fail(c, MN_EOVERFLOW, "tensor element count overflows");
  uint32_t be = ggml_block_elems(t->type);
  if (t->ne[0] % be)
    return fail(c, MN_EFORMAT, "row length not a multiple of the block size");
  t->nbytes = t->ne[0] / be;
  if (mul_ok(&t->nbytes, ggml_block_bytes(t->type)) ||
      mul_ok(&t->nbytes, t->ne[1]) || mul_ok(&t->nbytes, t->ne[2]) ||
      mul_ok(&t->nbytes, t->ne[3]))
    return fail(c, MN_EOVERFLOW, "tensor size overflows");
  return 0;
}

/* Places tensor t in the data section of f; checks the range. */
static int
tensor_place(struct cur *c, const struct gguf_file *f, struct gguf_tensor *t)
{
  if (t->offset % f->alignment)
    return fail(c, MN_EFORMAT, "tensor offset not aligned");
  uint64_t room = f->size - f->data_off;
  if (t->offset > room || t->nbytes > room - t->offset)
    return fail(c, MN_ETRUNC, "tensor data runs past the end of the file");
  t->data = f->buf + f->data_off + t->offset;
  return 0;
}

/* ---- open ----------------------------------------------------------------- */

static int
open_header(struct cur *c, struct gguf_file *f)
{
  uint64_t v;
  if (c->size < 4 || memcmp(c->buf, "GGUF", 4) != 0)
    return fail(c, c->size < 4 ? MN_ETRUNC : MN_EFORMAT, "not a GGUF file");
  c->pos = 4;
  int err = rd(c, 4, &v, "truncated header");
  if (err)
    return err;
  if (v == 1)
    return fail(c, MN_ENOTSUP, "GGUF version 1 is obsolete");
  if (v > 0xffff)
    return fail(c, MN_ENOTSUP, "big-endian GGUF file");
  if (v != 2 && v != 3)
    return fail(c, MN_ENOTSUP, "unsupported GGUF version");
  f->version = (uint32_t)v;
  if ((err = rd(c, 8, &f->n_tensors, "truncated header")) ||
      (err = rd(c, 8, &f->n_kv, "truncated header")))
    return err;
  return 0;
}

static int
open_kvs(struct cur *c, struct gguf_file *f)
{
  f->kv_off = c->pos;
  for (uint64_t i = 0; i < f->n_kv; i++) {
    const char *key;
    uint64_t len;
    struct gguf_value v;
    int err = rd_kv(c, &key, &len, &v, 1);
    if (err)
      return err;
    if (len == 17 && memcmp(key, "general.alignment", 17) == 0) {
      uint32_t a = v.type == GGUF_VT_U32 ? (uint32_t)le(v.p, 4) : 0;
      if (a == 0 || (a & (a - 1)))
        return fail(c, MN_EFORMAT, "general.alignment not a power of two u32");
      f->alignment = a;
    }
  }
  return 0;
}

static int
open_tensors(struct cur *c, struct gguf_file *f)
{
  f->ti_off = c->pos;
  for (uint64_t i = 0; i < f->n_tensors; i++) {
    struct gguf_tensor t;
    int err = rd_tensor(c, &t);
    if (!err)
      err = tensor_size(c, &t);
    if (err)
      return err;
  }
  uint64_t pad = (f->alignment - c->pos % f->alignment) % f->alignment;
  if (pad > c->size - c->pos) {
    if (f->n_tensors)
      return fail(c, MN_ETRUNC, "file ends before the tensor data");
    pad = c->size - c->pos;
  }
  f->data_off = c->pos + (size_t)pad;
  /* Second pass over the infos: data ranges, now that data_off is known. */
  c->pos = f->ti_off;
  for (uint64_t i = 0; i < f->n_tensors; i++) {
    struct gguf_tensor t;
    size_t at = c->pos;
    rd_tensor(c, &t);
    tensor_size(c, &t);
    size_t end = c->pos;
    c->pos = at; /* report the error at the tensor info */
    int err = tensor_place(c, f, &t);
    if (err)
      return err;
    c->pos = end;
  }
  return 0;
}

int
gguf_open(struct gguf_file *f, const void *buf, size_t size)
{
  if (!f || (!buf && size))
    return MN_EINVAL;
  memset(f, 0, sizeof *f);
  f->buf = buf;
  f->size = size;
  f->alignment = GGUF_DEFAULT_ALIGNMENT;
  struct cur c = {.buf = buf, .size = size};
  int err = open_header(&c, f);
  if (!err)
    err = open_kvs(&c, f);
  if (!err)
    err = open_tensors(&c, f);
  if (err) {
    f->err_msg = c.msg ? c.msg : "malformed file";
    f->err_off = c.err_pos;
  }
  return err;
}

/* ---- metadata lookup ------------------------------------------------------ */

int
gguf_kv_at(const struct gguf_file *f, uint64_t i, const char **key,
           size_t *key_len, struct gguf_value *v)
{
  if (i >= f->n_kv)
    return MN_ERANGE;
  struct cur c = {.buf = f->buf, .size = f->size, .pos = f->kv_off};
  uint64_t len;
  for (uint64_t k = 0; k <= i; k++)
    if (rd_kv(&c, key, &len, v, 0))
      return MN_EFORMAT; /* cannot happen after gguf_open */
  *key_len = (size_t)len;
  return 0;
}

int
gguf_find(const struct gguf_file *f, const char *key, struct gguf_value *v)
{
  struct cur c = {.buf = f->buf, .size = f->size, .pos = f->kv_off};
  size_t want = strlen(key);
  for (uint64_t k = 0; k < f->n_kv; k++) {
    const char *s;
    uint64_t len;
    if (rd_kv(&c, &s, &len, v, 0))
      return MN_ENOENT;
    if (len == want && memcmp(s, key, want) == 0)
      return 0;
  }
  return MN_ENOENT;
}

static double
f32_of(uint64_t bits)
{
  union { uint32_t u; float f; } u = {.u = (uint32_t)bits};
  return u.f;
}

static double
f64_of(uint64_t bits)
{
  union { uint64_t u; double d; } u = {.u = bits};
  return u.d;
}

int
gguf_value_i64(const struct gguf_value *v, int64_t *out)
{
  uint64_t x;
  switch (v->type) {
  case GGUF_VT_U8: case GGUF_VT_U16: case GGUF_VT_U32: case GGUF_VT_U64:
    x = le(v->p, vt_size[v->type]);
    if (x > (uint64_t)INT64_MAX)
      return MN_ERANGE;
    *out = (int64_t)x;
    return 0;
  case GGUF_VT_I8: case GGUF_VT_I16: case GGUF_VT_I32: case GGUF_VT_I64: {
    int bits = 8 * vt_size[v->type];
    x = le(v->p, vt_size[v->type]);
    if (bits < 64 && (x >> (bits - 1)) & 1)
      x |= ~0ull << bits; /* sign-extend */
    *out = (int64_t)x;
    return 0;
  }
  default:
    return MN_EMISMATCH;
  }
}

int
gguf_value_f64(const struct gguf_value *v, double *out)
{
  if (v->type == GGUF_VT_F32)
    *out = f32_of(le(v->p, 4));
  else if (v->type == GGUF_VT_F64)
    *out = f64_of(le(v->p, 8));
  else
    return MN_EMISMATCH;
  return 0;
}

static int
get_int(const struct gguf_file *f, const char *key, int64_t lo, int64_t hi,
        int64_t *out)
{
  struct gguf_value v;
  int err = gguf_find(f, key, &v);
  if (!err && v.type == GGUF_VT_U64 && le(v.p, 8) > (uint64_t)INT64_MAX) {
    if (hi != INT64_MAX)
      return MN_ERANGE;
    *out = -1; /* gguf_get_u64 reads it itself */
    return 1;
  }
  if (!err)
    err = gguf_value_i64(&v, out);
  if (!err && (*out < lo || *out > hi))
    err = MN_ERANGE;
  return err;
}

int
gguf_get_u32(const struct gguf_file *f, const char *key, uint32_t *out)
{
  int64_t x;
  int err = get_int(f, key, 0, UINT32_MAX, &x);
  if (!err)
    *out = (uint32_t)x;
  return err;
}

int
gguf_get_i32(const struct gguf_file *f, const char *key, int32_t *out)
{
  int64_t x;
  int err = get_int(f, key, INT32_MIN, INT32_MAX, &x);
  if (!err)
    *out = (int32_t)x;
  return err;
}

int
gguf_get_u64(const struct gguf_file *f, const char *key, uint64_t *out)
{
  int64_t x;
  int err = get_int(f, key, 0, INT64_MAX, &x);
  if (err == 1) { /* a u64 above INT64_MAX */
    struct gguf_value v;
    gguf_find(f, key, &v);
    *out = le(v.p, 8);
    return 0;
  }
  if (!err)
    *out = (uint64_t)x;
  return err;
}

int
gguf_get_f32(const struct gguf_file *f, const char *key, float *out)
{
  struct gguf_value v;
  double d;
  int err = gguf_find(f, key, &v);
  if (!err)
    err = gguf_value_f64(&v, &d);
  if (!err)
    *out = (float)d;
  return err;
}

int
gguf_get_bool(const struct gguf_file *f, const char *key, bool *out)
{
  struct gguf_value v;
  int err = gguf_find(f, key, &v);
  if (!err && v.type != GGUF_VT_BOOL)
    err = MN_EMISMATCH;
  if (!err)
    *out = v.p[0] != 0;
  return err;
}

int
gguf_get_str(const struct gguf_file *f, const char *key, const char **s,
             size_t *len)
{
  struct gguf_value v;
  int err = gguf_find(f, key, &v);
  if (!err && v.type != GGUF_VT_STR)
    err = MN_EMISMATCH;
  if (!err) {
    *s = (const char *)v.p;
    *len = (size_t)v.n;
  }
  return err;
}

int
gguf_get_arr(const struct gguf_file *f, const char *key, uint32_t elem,
             struct gguf_value *arr)
{
  int err = gguf_find(f, key, arr);
  if (!err && (arr->type != GGUF_VT_ARR || arr->elem != elem))
    err = MN_EMISMATCH;
  return err;
}

/* ---- arrays --------------------------------------------------------------- */

uint8_t
gguf_arr_u8(const struct gguf_value *arr, uint64_t i)
{
  return arr->p[i];
}

uint32_t
gguf_arr_u32(const struct gguf_value *arr, uint64_t i)
{
  return (uint32_t)le(arr->p + 4 * i, 4);
}

int32_t
gguf_arr_i32(const struct gguf_value *arr, uint64_t i)
{
  return (int32_t)(uint32_t)le(arr->p + 4 * i, 4);
}

float
gguf_arr_f32(const struct gguf_value *arr, uint64_t i)
{
  return (float)f32_of(le(arr->p + 4 * i, 4));
}

void
gguf_iter_init(struct gguf_iter *it, const struct gguf_value *arr)
{
  it->p = arr->p;
  it->end = arr->p + (arr->type == GGUF_VT_ARR ? arr->size - 12 : 0);
  it->elem = arr->elem;
  it->i = 0;
  it->n = arr->type == GGUF_VT_ARR ? arr->n : 0;
}

int
gguf_iter_next(struct gguf_iter *it, struct gguf_value *elem)
{
  if (it->i >= it->n)
    return MN_ENOENT;
  struct cur c = {.buf = it->p, .size = (size_t)(it->end - it->p)};
  if (rd_value(&c, it->elem, elem, 0, 0))
    return MN_ENOENT; /* cannot happen on a value from an opened file */
  it->p += c.pos;
  it->i++;
  return 0;
}

/* ---- tensor lookup -------------------------------------------------------- */

/* Reads the next tensor info at c, complete with its data pointer. */
static void
next_tensor(struct cur *c, const struct gguf_file *f, struct gguf_tensor *t)
{
  rd_tensor(c, t);
  tensor_size(c, t);
  t->data = f->buf + f->data_off + t->offset;
}

int
gguf_tensor_at(const struct gguf_file *f, uint64_t i, struct gguf_tensor *t)
{
  if (i >= f->n_tensors)
    return MN_ERANGE;
  struct cur c = {.buf = f->buf, .size = f->size, .pos = f->ti_off};
  for (uint64_t k = 0; k <= i; k++)
    next_tensor(&c, f, t);
  return 0;
}

int
gguf_find_tensor(const struct gguf_file *f, const char *name,
                 struct gguf_tensor *t)
{
  struct cur c = {.buf = f->buf, .size = f->size, .pos = f->ti_off};
  size_t want = strlen(name);
  for (uint64_t k = 0; k < f->n_tensors; k++) {
    next_tensor(&c, f, t);
    if (t->name_len == want && memcmp(t->name, name, want) == 0)
      return 0;
  }
  return MN_ENOENT;
}

uint64_t
gguf_tensor_nelem(const struct gguf_tensor *t)
{
  return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}
