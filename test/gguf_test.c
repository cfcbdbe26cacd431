/*
 * gguf_test.c: the GGUF reader against files written here (every metadata
 * type, nested arrays, alignment, malformed and truncated files) and the
 * reference models in ../shared/testdata/llm (cross-checked with the
 * tensor list of llama.cpp's gguf_dump.txt).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mneme/err.h>
#include <mneme/gguf.h>

#include "gguf_writer.h"

#define LLM "../shared/testdata/llm/"

/* Opens a copy of w's bytes in an exactly-sized heap block, so ASan sees
 * any read past the end. Returns gguf_open's code; *copy to be freed. */
static int
open_copy(struct gguf_file *f, const struct gw *w, size_t len, uint8_t **copy)
{
  *copy = malloc(len ? len : 1);
  assert_non_null(*copy);
  memcpy(*copy, w->buf, len);
  return gguf_open(f, *copy, len);
}

/* A file with every metadata type, nested arrays and three tensors. */
static void
write_rich(struct gw *w, uint32_t version, uint32_t align)
{
  gw_header(w, version, 3, 17);
  gw_kv_u32(w, "general.alignment", align);
  gw_key(w, "u8", GGUF_VT_U8), gw_u8(w, 200);
  gw_key(w, "i8", GGUF_VT_I8), gw_u8(w, 0x80);
  gw_key(w, "u16", GGUF_VT_U16), gw_le(w, 65535, 2);
  gw_key(w, "i16", GGUF_VT_I16), gw_le(w, 0xfffe, 2);
  gw_kv_u32(w, "u32", 4000000000u);
  gw_kv_i32(w, "i32", -7);
  gw_kv_f32(w, "f32", 0.5f);
  gw_kv_bool(w, "bool", 1);
  gw_kv_str(w, "str", "héllo");
  gw_key(w, "u64", GGUF_VT_U64), gw_u64(w, UINT64_MAX);
  gw_key(w, "i64", GGUF_VT_I64), gw_u64(w, (uint64_t)-5);
  gw_key(w, "f64", GGUF_VT_F64);
  double d = 2.25;
  uint64_t bits;
  memcpy(&bits, &d, 8);
  gw_u64(w, bits);
  gw_kv_arr(w, "strs", GGUF_VT_STR, 3);
  gw_str(w, "a"), gw_str(w, ""), gw_str(w, "ccc");
  gw_kv_arr(w, "f32s", GGUF_VT_F32, 2);
  gw_f32(w, 1.5f), gw_f32(w, -2.0f);
  gw_kv_arr(w, "nested", GGUF_VT_ARR, 2); /* [[1,2],["x"]] */
  gw_u32(w, GGUF_VT_I32), gw_u64(w, 2), gw_u32(w, 1), gw_u32(w, 2);
  gw_u32(w, GGUF_VT_STR), gw_u64(w, 1), gw_str(w, "x");
  gw_kv_arr(w, "empty", GGUF_VT_U64, 0);
  gw_tensor(w, "a", 2, (uint64_t[]){4, 2}, GGML_TYPE_F32, 0);
  uint64_t off_q = (32 + align - 1) / align * align;
  uint64_t off_k = (off_q + 68 + align - 1) / align * align;
  gw_tensor(w, "q", 1, (uint64_t[]){64}, GGML_TYPE_Q8_0, off_q);
  gw_tensor(w, "k", 3, (uint64_t[]){256, 1, 2}, GGML_TYPE_Q4_K, off_k);
  gw_pad(w, align);
  for (int i = 0; i < 8; i++)
    gw_f32(w, (float)i);
  gw_pad(w, align);
  for (int i = 0; i < 68; i++)
    gw_u8(w, (uint8_t)i);
  gw_pad(w, align);
  for (int i = 0; i < 288; i++)
    gw_u8(w, 0xaa);
}

static void
check_rich(const struct gguf_file *f, uint32_t align)
{
  uint32_t u32;
  int32_t i32;
  uint64_t u64;
  float f32;
  bool b;
  const char *s;
  size_t len;
  struct gguf_value v, e;

  assert_int_equal(f->n_kv, 17);
  assert_int_equal(f->n_tensors, 3);
  assert_int_equal(f->alignment, align);
  assert_int_equal(gguf_get_u32(f, "u8", &u32), 0);
  assert_int_equal(u32, 200);
  assert_int_equal(gguf_get_i32(f, "i8", &i32), 0);
  assert_int_equal(i32, -128);
  assert_int_equal(gguf_get_u32(f, "u16", &u32), 0);
  assert_int_equal(u32, 65535);
  assert_int_equal(gguf_get_i32(f, "i16", &i32), 0);
  assert_int_equal(i32, -2);
  assert_int_equal(gguf_get_u32(f, "u32", &u32), 0);
  assert_int_equal(u32, 4000000000u);
  assert_int_equal(gguf_get_i32(f, "u32", &i32), MN_ERANGE);
  assert_int_equal(gguf_get_i32(f, "i32", &i32), 0);
  assert_int_equal(i32, -7);
  assert_int_equal(gguf_get_u32(f, "i32", &u32), MN_ERANGE);
  assert_int_equal(gguf_get_f32(f, "f32", &f32), 0);
  assert_true(f32 == 0.5f);
  assert_int_equal(gguf_get_f32(f, "f64", &f32), 0);
  assert_true(f32 == 2.25f);
  assert_int_equal(gguf_get_f32(f, "u32", &f32), MN_EMISMATCH);
  assert_int_equal(gguf_get_bool(f, "bool", &b), 0);
  assert_true(b);
  assert_int_equal(gguf_get_bool(f, "u8", &b), MN_EMISMATCH);
  assert_int_equal(gguf_get_str(f, "str", &s, &len), 0);
  assert_int_equal(len, 6);
  assert_memory_equal(s, "héllo", 6);
  assert_int_equal(gguf_get_str(f, "u8", &s, &len), MN_EMISMATCH);
  assert_int_equal(gguf_get_u64(f, "u64", &u64), 0);
  assert_true(u64 == UINT64_MAX);
  assert_int_equal(gguf_get_u32(f, "u64", &u32), MN_ERANGE);
  assert_int_equal(gguf_get_i32(f, "i64", &i32), 0);
  assert_int_equal(i32, -5);
  assert_int_equal(gguf_get_u64(f, "i64", &u64), MN_ERANGE);
  assert_int_equal(gguf_get_u32(f, "missing", &u32), MN_ENOENT);
  assert_int_equal(gguf_get_u32(f, "u3", &u32), MN_ENOENT);

  assert_int_equal(gguf_get_arr(f, "strs", GGUF_VT_STR, &v), 0);
  assert_int_equal(v.n, 3);
  struct gguf_iter it;
  gguf_iter_init(&it, &v);
  const char *want[] = {"a", "", "ccc"};
  for (int i = 0; i < 3; i++) {
    assert_int_equal(gguf_iter_next(&it, &e), 0);
    assert_int_equal(e.type, GGUF_VT_STR);
    assert_int_equal(e.n, strlen(want[i]));
    assert_memory_equal(e.p, want[i], e.n);
  }
  assert_int_equal(gguf_iter_next(&it, &e), MN_ENOENT);
  assert_int_equal(gguf_get_arr(f, "strs", GGUF_VT_F32, &v), MN_EMISMATCH);
  assert_int_equal(gguf_get_arr(f, "f32s", GGUF_VT_F32, &v), 0);
  assert_true(gguf_arr_f32(&v, 0) == 1.5f && gguf_arr_f32(&v, 1) == -2.0f);

  assert_int_equal(gguf_get_arr(f, "nested", GGUF_VT_ARR, &v), 0);
  gguf_iter_init(&it, &v);
  assert_int_equal(gguf_iter_next(&it, &e), 0);
  assert_int_equal(e.elem, GGUF_VT_I32);
  assert_int_equal(e.n, 2);
  assert_int_equal(gguf_arr_i32(&e, 1), 2);
  assert_int_equal(gguf_iter_next(&it, &e), 0);
  struct gguf_iter in;
  struct gguf_value x;
  gguf_iter_init(&in, &e);
  assert_int_equal(gguf_iter_next(&in, &x), 0);
  assert_memory_equal(x.p, "x", 1);
  assert_int_equal(gguf_iter_next(&in, &x), MN_ENOENT);
  assert_int_equal(gguf_iter_next(&it, &e), MN_ENOENT);
  assert_int_equal(gguf_get_arr(f, "empty", GGUF_VT_U64, &v), 0);
  assert_int_equal(v.n, 0);

  const char *key;
  assert_int_equal(gguf_kv_at(f, 16, &key, &len, &v), 0);
  assert_int_equal(len, 5);
  assert_memory_equal(key, "empty", 5);
  assert_int_equal(gguf_kv_at(f, 17, &key, &len, &v), MN_ERANGE);

  struct gguf_tensor t;
  assert_int_equal(gguf_find_tensor(f, "a", &t), 0);
  assert_int_equal(t.n_dims, 2);
  assert_int_equal(t.ne[0], 4);
  assert_int_equal(t.ne[1], 2);
  assert_int_equal(t.ne[2], 1);
  assert_int_equal(t.nbytes, 32);
  assert_int_equal(gguf_tensor_nelem(&t), 8);
  assert_true(t.data == f->buf + f->data_off);
  assert_int_equal(f->data_off % align, 0);
  float f7;
  memcpy(&f7, t.data + 28, 4);
  assert_true(f7 == 7.0f);
  assert_int_equal(gguf_find_tensor(f, "q", &t), 0);
  assert_int_equal(t.type, GGML_TYPE_Q8_0);
  assert_int_equal(t.nbytes, 68);
  assert_int_equal(t.data[67], 67);
  assert_int_equal(gguf_tensor_at(f, 2, &t), 0);
  assert_memory_equal(t.name, "k", 1);
  assert_int_equal(t.nbytes, 288);
  assert_true(t.data + t.nbytes == f->buf + f->size);
  assert_int_equal(gguf_tensor_at(f, 3, &t), MN_ERANGE);
  assert_int_equal(gguf_find_tensor(f, "nope", &t), MN_ENOENT);
}

static void
test_rich_v2_v3(void **state)
{
  (void)state;
  uint32_t aligns[] = {32, 64, 8};
  for (uint32_t version = 2; version <= 3; version++)
    for (int a = 0; a < 3; a++) {
      struct gw w = {0};
      struct gguf_file f;
      uint8_t *copy;
      write_rich(&w, version, aligns[a]);
      assert_int_equal(open_copy(&f, &w, w.len, &copy), 0);
      assert_int_equal(f.version, version);
      check_rich(&f, aligns[a]);
      free(copy);
      free(w.buf);
    }
}

/* Every prefix of a valid file fails cleanly (ASan checks the reads). */
static void
test_truncated_everywhere(void **state)
{
  (void)state;
  struct gw w = {0};
  write_rich(&w, 3, 32);
  for (size_t len = 0; len < w.len; len++) {
    struct gguf_file f;
    uint8_t *copy;
    int err = open_copy(&f, &w, len, &copy);
    if (err != MN_ETRUNC)
      fail_msg("prefix of %zu bytes: got %d (%s)", len, err,
               f.err_msg ? f.err_msg : "accepted");
    assert_non_null(f.err_msg);
    assert_true(f.err_off <= len);
    free(copy);
  }
  free(w.buf);
}

/* A header, then body() writes the rest; returns gguf_open's code. */

static int
open_with(void (*body)(struct gw *w), uint64_t n_tensors, uint64_t n_kv,
          const char **msg)
{
  struct gw w = {0};
  struct gguf_file f;
  uint8_t *copy;
  gw_header(&w, 3, n_tensors, n_kv);
  body(&w);
  int err = open_copy(&f, &w, w.len, &copy);
  *msg = f.err_msg;
  free(copy);
  free(w.buf);
  return err;
}

static void bad_vtype(struct gw *w) { gw_key(w, "k", 13), gw_u32(w, 0); }
static void bad_etype(struct gw *w) { gw_kv_arr(w, "k", 99, 1), gw_u8(w, 0); }
static void bad_bool(struct gw *w) { gw_kv_bool(w, "k", 2); }
static void bad_bool_arr(struct gw *w)
{
  gw_kv_arr(w, "k", GGUF_VT_BOOL, 3), gw_u8(w, 0), gw_u8(w, 1), gw_u8(w, 7);
}
static void huge_str(struct gw *w) { gw_key(w, "k", GGUF_VT_STR), gw_u64(w, UINT64_MAX), gw_u8(w, 'x'); }
static void huge_key(struct gw *w) { gw_u64(w, UINT64_MAX - 3), gw_u32(w, 0); }
static void huge_arr(struct gw *w) { gw_kv_arr(w, "k", GGUF_VT_U64, UINT64_MAX / 4), gw_u64(w, 0); }
static void huge_str_arr(struct gw *w) { gw_kv_arr(w, "k", GGUF_VT_STR, UINT64_MAX), gw_str(w, "a"); }
static void deep_nest(struct gw *w)
{
  gw_key(w, "k", GGUF_VT_ARR);
  for (int i = 0; i < 100; i++)
    gw_u32(w, GGUF_VT_ARR), gw_u64(w, 1);
  gw_u32(w, GGUF_VT_U8), gw_u64(w, 0);
}
static void ok_nest(struct gw *w)
{
  gw_key(w, "k", GGUF_VT_ARR);
  for (int i = 0; i < 7; i++)
    gw_u32(w, GGUF_VT_ARR), gw_u64(w, 1);
  gw_u32(w, GGUF_VT_U8), gw_u64(w, 0);
}
static void align0(struct gw *w) { gw_kv_u32(w, "general.alignment", 0); }
static void align3(struct gw *w) { gw_kv_u32(w, "general.alignment", 48); }
static void align_str(struct gw *w) { gw_kv_str(w, "general.alignment", "32"); }
static void nothing(struct gw *w) { (void)w; }

static void
tensor_file(struct gw *w, uint32_t n_dims, const uint64_t *ne, uint32_t type,
            uint64_t off, size_t data)
{
  gw_tensor(w, "t", n_dims, ne, type, off);
  gw_pad(w, 32);
  for (size_t i = 0; i < data; i++)
    gw_u8(w, 0);
}
static void t_dims5(struct gw *w) { tensor_file(w, 5, (uint64_t[]){1, 1, 1, 1, 1}, 0, 0, 4); }
static void t_type(struct gw *w) { tensor_file(w, 1, (uint64_t[]){1}, 4, 0, 4); }
static void t_type_big(struct gw *w) { tensor_file(w, 1, (uint64_t[]){1}, 1u << 31, 0, 4); }
static void t_block(struct gw *w) { tensor_file(w, 1, (uint64_t[]){33}, GGML_TYPE_Q8_0, 0, 68); }
static void t_misaligned(struct gw *w) { tensor_file(w, 1, (uint64_t[]){1}, 0, 4, 64); }
static void t_past_end(struct gw *w) { tensor_file(w, 1, (uint64_t[]){16}, 0, 0, 63); }
static void t_off_past_end(struct gw *w) { tensor_file(w, 1, (uint64_t[]){1}, 0, UINT64_MAX - 31, 64); }
static void t_overflow(struct gw *w) { tensor_file(w, 2, (uint64_t[]){1ull << 40, 1ull << 40}, 0, 0, 4); }
static void t_overflow_bytes(struct gw *w) { tensor_file(w, 1, (uint64_t[]){1ull << 62}, 0, 0, 4); }
static void t_neg(struct gw *w) { tensor_file(w, 2, (uint64_t[]){UINT64_MAX, 0}, 0, 0, 4); }
static void t_name(struct gw *w)
{
  char name[66];
  memset(name, 'n', 65);
  name[65] = 0;
  gw_tensor(w, name, 1, (uint64_t[]){1}, 0, 0);
  gw_pad(w, 32), gw_u32(w, 0);
}
static void t_ok(struct gw *w) { tensor_file(w, 1, (uint64_t[]){16}, 0, 0, 64); }
static void t_zero(struct gw *w) { tensor_file(w, 2, (uint64_t[]){16, 0}, 0, 0, 0); }

static void
test_hostile(void **state)
{
  (void)state;
  const struct {
    void (*body)(struct gw *w);
    uint64_t n_tensors, n_kv;
    int err;
  } cases[] = {
    {bad_vtype, 0, 1, MN_EFORMAT},     {bad_etype, 0, 1, MN_EFORMAT},
    {bad_bool, 0, 1, MN_EFORMAT},      {bad_bool_arr, 0, 1, MN_EFORMAT},
    {huge_str, 0, 1, MN_ETRUNC},       {huge_key, 0, 1, MN_ETRUNC},
    {huge_arr, 0, 1, MN_ETRUNC},       {huge_str_arr, 0, 1, MN_ETRUNC},
    {deep_nest, 0, 1, MN_EFORMAT},     {ok_nest, 0, 1, 0},
    {align0, 0, 1, MN_EFORMAT},        {align3, 0, 1, MN_EFORMAT},
    {align_str, 0, 1, MN_EFORMAT},     {nothing, 0, UINT64_MAX, MN_ETRUNC},
    {nothing, UINT64_MAX, 0, MN_ETRUNC}, {nothing, 0, 0, 0},
    {t_dims5, 1, 0, MN_EFORMAT},       {t_type, 1, 0, MN_ENOTSUP},
    {t_type_big, 1, 0, MN_ENOTSUP},    {t_block, 1, 0, MN_EFORMAT},
    {t_misaligned, 1, 0, MN_EFORMAT},  {t_past_end, 1, 0, MN_ETRUNC},
    {t_off_past_end, 1, 0, MN_ETRUNC}, {t_overflow, 1, 0, MN_EOVERFLOW},
    {t_overflow_bytes, 1, 0, MN_EOVERFLOW}, {t_neg, 1, 0, MN_EOVERFLOW},
    {t_name, 1, 0, MN_EFORMAT},        {t_ok, 1, 0, 0},
    {t_zero, 1, 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *msg;
    int err = open_with(cases[i].body, cases[i].n_tensors, cases[i].n_kv, &msg);
    if (err != cases[i].err)
      fail_msg("case %zu: got %d (%s), want %d", i, err, msg ? msg : "-",
               cases[i].err);
    if (err)
      print_message("case %zu: %s: %s\n", i, mn_strerror(err), msg);
  }
}

static void
test_bad_header(void **state)
{
  (void)state;
  const struct {
    const char *magic;
    uint32_t version;
    int err;
  } cases[] = {
    {"GGUF", 1, MN_ENOTSUP}, {"GGUF", 4, MN_ENOTSUP},
    {"GGUF", 0x03000000, MN_ENOTSUP}, {"GGML", 3, MN_EFORMAT},
    {"FUGG", 3, MN_EFORMAT},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct gw w = {0};
    struct gguf_file f;
    uint8_t *copy;
    gw_bytes(&w, cases[i].magic, 4);
    gw_u32(&w, cases[i].version);
    gw_u64(&w, 0), gw_u64(&w, 0);
    assert_int_equal(open_copy(&f, &w, w.len, &copy), cases[i].err);
    assert_non_null(f.err_msg);
    free(copy);
    free(w.buf);
  }
  struct gguf_file f;
  assert_int_equal(gguf_open(&f, NULL, 0), MN_ETRUNC);
  assert_int_equal(gguf_open(NULL, "", 0), MN_EINVAL);
}

static void
test_type_traits(void **state)
{
  (void)state;
  assert_int_equal(ggml_row_bytes(GGML_TYPE_Q4_K, 512), 288);
  assert_int_equal(ggml_row_bytes(GGML_TYPE_Q6_K, 256), 210);
  assert_int_equal(ggml_row_bytes(GGML_TYPE_Q8_0, 64), 68);
  assert_int_equal(ggml_row_bytes(GGML_TYPE_Q4_0, 32), 18);
  assert_int_equal(ggml_row_bytes(GGML_TYPE_BF16, 3), 6);
  assert_int_equal(ggml_row_bytes(GGML_TYPE_Q8_0, 33), 0);
  assert_int_equal(ggml_row_bytes(5, 32), 0);
  assert_int_equal(ggml_row_bytes(GGML_TYPE_F32, UINT64_MAX / 2), 0);
  assert_string_equal(ggml_type_name(GGML_TYPE_Q4_K), "Q4_K");
  assert_string_equal(ggml_type_name(1000), "?");
  assert_string_equal(gguf_vtype_name(GGUF_VT_ARR), "array");
}

/* ---- reference models ---------------------------------------------------- */

static uint32_t
type_by_name(const char *s)
{
  for (uint32_t t = 0; t < GGML_TYPE_COUNT; t++)
    if (strcmp(ggml_type_name(t), s) == 0)
      return t;
  return UINT32_MAX;
}

/* Compares every tensor with llama.cpp's gguf_dump.txt lines
 *   "  n:   nelem |  ne0, ne1, ne2, ne3 | TYPE | name". */
static void
check_dump(const struct gguf_file *f, const char *dump_path)
{
  FILE *fp = fopen(dump_path, "r");
  if (!fp)
    fail_msg("cannot open %s", dump_path);
  char line[512];
  uint64_t seen = 0;
  while (fgets(line, sizeof line, fp)) {
    unsigned long long n, ne[4];
    char type[16], name[128];
    unsigned idx;
    if (sscanf(line, " %u: %llu | %llu, %llu, %llu, %llu | %15s | %127s", &idx,
               &n, &ne[0], &ne[1], &ne[2], &ne[3], type, name) != 8)
      continue;
    struct gguf_tensor t;
    assert_int_equal(gguf_tensor_at(f, seen, &t), 0);
    assert_int_equal(t.name_len, strlen(name));
    assert_memory_equal(t.name, name, t.name_len);
    for (int i = 0; i < 4; i++)
      assert_int_equal(t.ne[i], ne[i]);
    assert_int_equal(gguf_tensor_nelem(&t), n);
    assert_int_equal(t.type, type_by_name(type));
    seen++;
  }
  fclose(fp);
  assert_int_equal(seen, f->n_tensors);
}

static void
test_reference_models(void **state)
{
  (void)state;
  const char *models[] = {
    "stories260K-f32", "stories260K-f16", "stories260K-q8_0",
    "stories260K-q4_0", "synth-llama-d256-q8_0", "synth-llama-d256-q4_0",
    "synth-llama-d256-q4_k_m", "synth-llama-d256-q6_k",
    "synth-llama-d256-q4_k-pure",
  };
  for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
    char path[256];
    struct gguf_map m;
    struct gguf_file f;
    snprintf(path, sizeof path, LLM "models/%s.gguf", models[i]);
    if (gguf_map_file(&m, path))
      fail_msg("cannot map %s (run from the repository root)", path);
    int err = gguf_open(&f, m.addr, m.size);
    if (err)
      fail_msg("%s: %s at %llu", path, f.err_msg, (unsigned long long)f.err_off);
    snprintf(path, sizeof path, LLM "%s/gguf_dump.txt", models[i]);
    check_dump(&f, path);
    const char *s;
    size_t len;
    uint32_t n_embd;
    assert_int_equal(gguf_get_str(&f, "general.architecture", &s, &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(s, "llama", 5);
    assert_int_equal(gguf_get_u32(&f, "llama.embedding_length", &n_embd), 0);
    assert_int_equal(n_embd, i < 4 ? 64 : 256);
    struct gguf_value toks;
    assert_int_equal(gguf_get_arr(&f, "tokenizer.ggml.tokens", GGUF_VT_STR, &toks), 0);
    assert_int_equal(toks.n, i < 4 ? 512 : 32000);
    print_message("%s: %llu tensors, %llu keys, data at %zu\n", models[i],
                  (unsigned long long)f.n_tensors, (unsigned long long)f.n_kv,
                  f.data_off);
    gguf_unmap_file(&m);
  }
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_rich_v2_v3),
    cmocka_unit_test(test_truncated_everywhere),
    cmocka_unit_test(test_hostile),
    cmocka_unit_test(test_bad_header),
    cmocka_unit_test(test_type_traits),
    cmocka_unit_test(test_reference_models),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
