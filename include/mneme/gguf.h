/*
 * gguf.h: a zero-copy reader for GGUF model files (versions 2 and 3).
 *
 * The caller owns the bytes (mmapped on the hosted build, loaded by the
 * kernel); the reader never allocates and never copies. gguf_open()
 * validates the whole file once (header, every metadata value including
 * nested arrays, every tensor info, alignment, every length and offset
 * against the buffer size); afterwards every lookup walks bytes already
 * known to be in bounds. Metadata and tensor lookups are linear scans over
 * the file: call them at load time, not per token.
 *
 * Strings in the file are not NUL-terminated: every string comes back as
 * a (pointer, length) pair pointing into the caller's buffer.
 *
 * All multi-byte numbers in the file are little-endian and unaligned; use
 * the gguf_arr_* accessors rather than casting pointers.
 */
#ifndef MNEME_GGUF_H
#define MNEME_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Metadata value types (the u32 value_type in the file). */
enum gguf_vtype {
  GGUF_VT_U8 = 0,
  GGUF_VT_I8 = 1,
  GGUF_VT_U16 = 2,
  GGUF_VT_I16 = 3,
  GGUF_VT_U32 = 4,
  GGUF_VT_I32 = 5,
  GGUF_VT_F32 = 6,
  GGUF_VT_BOOL = 7,
  GGUF_VT_STR = 8,
  GGUF_VT_ARR = 9,
  GGUF_VT_U64 = 10,
  GGUF_VT_I64 = 11,
  GGUF_VT_F64 = 12,
  GGUF_VT_COUNT
};

/* Tensor element types (ggml type ids). */
enum ggml_type {
  GGML_TYPE_F32 = 0,
  GGML_TYPE_F16 = 1,
  GGML_TYPE_Q4_0 = 2,
  GGML_TYPE_Q4_1 = 3,
  GGML_TYPE_Q5_0 = 6,
  GGML_TYPE_Q5_1 = 7,
  GGML_TYPE_Q8_0 = 8,
  GGML_TYPE_Q8_1 = 9,
  GGML_TYPE_Q2_K = 10,
  GGML_TYPE_Q3_K = 11,
  GGML_TYPE_Q4_K = 12,
  GGML_TYPE_Q5_K = 13,
  GGML_TYPE_Q6_K = 14,
  GGML_TYPE_Q8_K = 15,
  GGML_TYPE_I8 = 24,
  GGML_TYPE_I16 = 25,
  GGML_TYPE_I32 = 26,
  GGML_TYPE_I64 = 27,
  GGML_TYPE_F64 = 28,
  GGML_TYPE_BF16 = 30,
  GGML_TYPE_COUNT = 40 /* bound for tables indexed by type */
};

#define GGUF_MAX_DIMS 4
#define GGUF_MAX_NAME 64 /* longest tensor name the format allows */
#define GGUF_DEFAULT_ALIGNMENT 32

/* A metadata value: scalars, strings and arrays alike. Points into the
 * file. For a string, `p`/`n` are its bytes and length. For an array,
 * `elem` is the element type, `n` the element count and `p` the first
 * element; walk it with gguf_iter (strings and nested arrays have variable
 * size) or index fixed-size elements with gguf_arr_*. For a scalar, `p` is
 * its little-endian bytes and `n` is 1. `size` is the value's total size
 * in bytes (without the type tag). */
struct gguf_value {
  uint32_t type;     /* enum gguf_vtype */
  uint32_t elem;     /* arrays: element type */
  const uint8_t *p;
  uint64_t n;
  uint64_t size;
};

/* One tensor, as described by its tensor info. `ne[0]` is the contiguous
 * (fastest-moving) dimension; unused dimensions are 1. `data` points at
 * the first byte in the caller's buffer, `nbytes` bytes long (checked to
 * lie inside the buffer). */
struct gguf_tensor {
  const char *name;  /* not NUL-terminated */
  size_t name_len;
  uint32_t n_dims;
  uint64_t ne[GGUF_MAX_DIMS];
  uint32_t type;     /* enum ggml_type */
  uint64_t offset;   /* from the start of the data section */
  const uint8_t *data;
  uint64_t nbytes;
};

/* An open file. All fields are read-only for the caller. */
struct gguf_file {
  const uint8_t *buf;
  size_t size;
  uint32_t version;     /* 2 or 3 */
  uint64_t n_kv;
  uint64_t n_tensors;
  uint32_t alignment;   /* general.alignment or 32 */
  size_t kv_off;        /* first key/value pair */
  size_t ti_off;        /* first tensor info */
  size_t data_off;      /* start of the tensor data section */
  /* After a failed gguf_open: what was wrong, and where (byte offset). */
  const char *err_msg;
  uint64_t err_off;
};

/* Validates the GGUF file in buf[0..size) and fills *f. Does not copy or
 * allocate: buf must stay valid and unchanged while f is used.
 * Returns 0; MN_EFORMAT (bad magic, bad value type, bool not 0/1, bad
 * general.alignment, arrays nested too deep, too many dims, tensor name
 * too long, row length not a multiple of the block size, misaligned
 * tensor offset), MN_ENOTSUP (GGUF version other than 2 or 3, big-endian
 * file, tensor type id this reader does not know), MN_ETRUNC (a length,
 * count or tensor's data runs past the end of the buffer), MN_EOVERFLOW
 * (a tensor's size does not fit 64 bits), MN_EINVAL (NULL arguments).
 * On error f->err_msg and f->err_off say what and where.
 * Duplicate keys or tensor names are not rejected: lookups find the first. */
int gguf_open(struct gguf_file *f, const void *buf, size_t size);

/* ---- metadata ---------------------------------------------------------- */

/* Finds key `key` (NUL-terminated). Returns 0 or MN_ENOENT. */
int gguf_find(const struct gguf_file *f, const char *key,
              struct gguf_value *v);

/* The i-th key/value pair (0 <= i < f->n_kv), for listing. Linear in i.
 * Returns 0 or MN_ERANGE. */
int gguf_kv_at(const struct gguf_file *f, uint64_t i, const char **key,
               size_t *key_len, struct gguf_value *v);

/* Typed getters. Integers are accepted from any integer type whose value
 * fits the result; floats from f32 or f64. Each returns 0, MN_ENOENT
 * (no such key), MN_EMISMATCH (wrong type) or MN_ERANGE (does not fit). */
int gguf_get_u32(const struct gguf_file *f, const char *key, uint32_t *out);
int gguf_get_i32(const struct gguf_file *f, const char *key, int32_t *out);
int gguf_get_u64(const struct gguf_file *f, const char *key, uint64_t *out);
int gguf_get_f32(const struct gguf_file *f, const char *key, float *out);
int gguf_get_bool(const struct gguf_file *f, const char *key, bool *out);
/* A string value: *s points into the file, *len its length (no NUL). */
int gguf_get_str(const struct gguf_file *f, const char *key, const char **s,
                 size_t *len);
/* An array value whose elements have type `elem` (MN_EMISMATCH if not). */
int gguf_get_arr(const struct gguf_file *f, const char *key, uint32_t elem,
                 struct gguf_value *arr);

/* Scalar conversions of a value (as the getters above). Return 0,
 * MN_EMISMATCH or MN_ERANGE. */
int gguf_value_i64(const struct gguf_value *v, int64_t *out);
int gguf_value_f64(const struct gguf_value *v, double *out);

/* Fixed-size array elements by index; the caller keeps i < arr->n and
 * the element type right (these do not check). */
uint32_t gguf_arr_u32(const struct gguf_value *arr, uint64_t i);
int32_t gguf_arr_i32(const struct gguf_value *arr, uint64_t i);
float gguf_arr_f32(const struct gguf_value *arr, uint64_t i);
uint8_t gguf_arr_u8(const struct gguf_value *arr, uint64_t i);

/* Walks any array element by element (strings, nested arrays, scalars).
 *   struct gguf_iter it; gguf_iter_init(&it, &arr);
 *   while (gguf_iter_next(&it, &elem) == 0) ... elem.p/elem.n ...
 * gguf_iter_next returns 0, or MN_ENOENT after the last element. */
struct gguf_iter {
  const uint8_t *p, *end;
  uint32_t elem;
  uint64_t i, n;
};
void gguf_iter_init(struct gguf_iter *it, const struct gguf_value *arr);
int gguf_iter_next(struct gguf_iter *it, struct gguf_value *elem);

/* ---- tensors ----------------------------------------------------------- */

/* Finds tensor `name` (NUL-terminated). Returns 0 or MN_ENOENT. */
int gguf_find_tensor(const struct gguf_file *f, const char *name,
                     struct gguf_tensor *t);

/* The i-th tensor (0 <= i < f->n_tensors). Linear in i.
 * Returns 0 or MN_ERANGE. */
int gguf_tensor_at(const struct gguf_file *f, uint64_t i,
                   struct gguf_tensor *t);

/* Number of elements of t (product of ne[]). */
uint64_t gguf_tensor_nelem(const struct gguf_tensor *t);

/* ---- type traits ------------------------------------------------------- */

/* Elements per block and bytes per block of a ggml type; 0 for a type id
 * this reader does not know. */
uint32_t ggml_block_elems(uint32_t type);
uint32_t ggml_block_bytes(uint32_t type);
/* Bytes of a row of n elements of `type`; 0 if the type is unknown or n is
 * not a multiple of the block size. */
uint64_t ggml_row_bytes(uint32_t type, uint64_t n);
/* "F32", "Q4_K", ...; "?" for an unknown id. */
const char *ggml_type_name(uint32_t type);
/* "u32", "string", "array", ...; "?" for an unknown id. */
const char *gguf_vtype_name(uint32_t type);

/* ---- hosted helper ----------------------------------------------------- */
#ifdef MN_HOSTED
/* A file mapped read-only into memory (infer/gguf_host.c). */
struct gguf_map {
  void *addr;
  size_t size;
};
/* Maps `path`. Returns 0, MN_ENOENT (cannot open), MN_EIO (stat or mmap
 * failed) or MN_EFORMAT (empty file). */
int gguf_map_file(struct gguf_map *m, const char *path);
void gguf_unmap_file(struct gguf_map *m);
#endif

#endif
