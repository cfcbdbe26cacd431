/*
 * tokenizer_test.c: token ids against llama.cpp's.
 *
 *  - every input/expected pair of llama.cpp's vocabulary conformance files
 *    (../shared/testdata/llm/vocab: llama-spm, phi-3 = SentencePiece
 *    style, gpt-2 = byte-level BPE), and that the pieces of the ids give
 *    the input back;
 *  - the prompts of every reference model (tokens.json: ids with and
 *    without BOS, and each token's bytes);
 *  - special tokens, streaming detokenization across split UTF-8, buffer
 *    limits and malformed tokenizer metadata (files written here).
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
#include <mneme/tokenizer.h>

#include "gguf_writer.h"
#include "test_files.h"

#define LLM "../shared/testdata/llm/"
#define MAXIDS 4096

struct vocab {
  struct gguf_map map;
  struct gguf_file file;
  struct tokenizer tok;
};

static void
vocab_open(struct vocab *v, const char *path)
{
  if (gguf_map_file(&v->map, path))
    fail_msg("cannot map %s (tests run from the repository root)", path);
  assert_int_equal(gguf_open(&v->file, v->map.addr, v->map.size), 0);
  assert_int_equal(tok_init(&v->tok, &v->file, &tok_malloc), 0);
}

static void
vocab_close(struct vocab *v)
{
  tok_free(&v->tok);
  gguf_unmap_file(&v->map);
}

/* Parses decimal ids separated by spaces/commas up to `end` char. */
static size_t
parse_ids(const char *s, char end, int32_t *ids)
{
  size_t n = 0;
  while (*s && *s != end) {
    if (*s >= '0' && *s <= '9') {
      ids[n++] = (int32_t)strtol(s, (char **)&s, 10);
      assert_true(n < MAXIDS);
    } else {
      s++;
    }
  }
  return n;
}

static void
print_ids(const char *what, const int32_t *ids, size_t n)
{
  print_message("  %s:", what);
  for (size_t i = 0; i < n; i++)
    print_message(" %d", ids[i]);
  print_message("\n");
}

/* Concatenated pieces of ids into out; returns the length. */
static size_t
detok(const struct tokenizer *t, const int32_t *ids, size_t n, char *out,
      size_t cap)
{
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    int k = tok_piece(t, ids[i], 0, out + m, cap - m);
    assert_true(k >= 0);
    m += (size_t)k;
  }
  return m;
}

/* Runs one vocabulary's .inp/.out pairs; returns how many matched. */
static int
run_vocab(const char *name, int *total)
{
  char path[256];
  struct vocab v;
  size_t ni, no;
  snprintf(path, sizeof path, LLM "vocab/ggml-vocab-%s.gguf", name);
  vocab_open(&v, path);
  snprintf(path, sizeof path, LLM "vocab/ggml-vocab-%s.gguf.inp", name);
  char *inp = slurp(path, &ni);
  snprintf(path, sizeof path, LLM "vocab/ggml-vocab-%s.gguf.out", name);
  char *out = slurp(path, &no);
  static const char sep[] = "\n__ggml_vocab_test__\n";
  static int32_t want[MAXIDS], got[MAXIDS];
  static char text[65536];
  char *p = inp, *o = out, *q;
  int pass = 0;
  *total = 0;
  while ((q = strstr(p, sep)) != NULL) {
    char *eol = strchr(o, '\n');
    assert_non_null(eol);
    *eol = 0;
    size_t nw = parse_ids(o, 0, want), ng;
    assert_int_equal(tok_encode(&v.tok, p, (size_t)(q - p), 0, got, MAXIDS, &ng), 0);
    int ok = ng == nw && memcmp(want, got, nw * sizeof *got) == 0;
    /* The pieces give the text back (SPM: after its added space). */
    size_t tl = detok(&v.tok, got, ng, text, sizeof text), skip = 0;
    if (v.tok.add_space_prefix && tl > 0 && text[0] == ' ')
      skip = 1;
    if (tl - skip != (size_t)(q - p) || memcmp(text + skip, p, tl - skip) != 0) {
      print_message("  %s test %d: pieces do not give the input back\n", name, *total);
      ok = 0;
    }
    if (!ok) {
      print_message("%s test %d failed: \"%.*s\"\n", name, *total, (int)(q - p), p);
      print_ids("want", want, nw);
      print_ids("got ", got, ng);
    }
    pass += ok;
    ++*total;
    p = q + sizeof sep - 1;
    o = eol + 1;
  }
  free(inp);
  free(out);
  vocab_close(&v);
  return pass;
}

static void
test_vocab_conformance(void **state)
{
  (void)state;
  const char *names[] = {"llama-spm", "phi-3", "gpt-2"};
  int all = 1;
  for (size_t i = 0; i < 3; i++) {
    int total, pass = run_vocab(names[i], &total);
    print_message("vocab %-10s %d/%d inputs give llama.cpp's ids\n", names[i],
                  pass, total);
    all &= pass == total && total == 46;
  }
  assert_true(all);
}

/* ---- model prompts ----------------------------------------------------------- */

/* Reads the JSON string starting after `key": "` in s (simple escapes). */
static size_t
json_str(const char *s, const char *key, char *out)
{
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\": \"", key);
  const char *p = strstr(s, pat);
  assert_non_null(p);
  p += strlen(pat);
  size_t n = 0;
  for (; *p != '"'; p++) {
    if (*p == '\\')
      p++;
    out[n++] = *p;
  }
  return n;
}

static size_t
json_ids(const char *s, const char *key, int32_t *ids)
{
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\": [", key);
  const char *p = strstr(s, pat);
  assert_non_null(p);
  return parse_ids(p + strlen(pat), ']', ids);
}

static void
check_pieces(const struct tokenizer *t, const char *s, const int32_t *ids,
             size_t n)
{
  const char *p = strstr(s, "\"pieces_hex\": [");
  assert_non_null(p);
  p += strlen("\"pieces_hex\": [");
  for (size_t i = 0; i < n; i++) {
    char piece[256], hex[600];
    p = strchr(p, '"') + 1;
    size_t hl = (size_t)(strchr(p, '"') - p);
    int k = tok_piece(t, ids[i], TOK_SHOW_SPECIAL, piece, sizeof piece);
    assert_true(k >= 0);
    for (int j = 0; j < k; j++)
      sprintf(hex + 2 * j, "%02x", (uint8_t)piece[j]);
    if (hl != 2 * (size_t)k || memcmp(hex, p, hl) != 0)
      fail_msg("piece of id %d: %.*s, want %.*s", ids[i], 2 * k, hex, (int)hl, p);
    p += hl + 1;
  }
}

static void
test_model_prompts(void **state)
{
  (void)state;
  const char *models[] = {
    "stories260K-f32", "stories260K-f16", "stories260K-q8_0",
    "stories260K-q4_0", "synth-llama-d256-q8_0", "synth-llama-d256-q4_0",
    "synth-llama-d256-q4_k_m", "synth-llama-d256-q6_k",
    "synth-llama-d256-q4_k-pure",
  };
  static int32_t want[MAXIDS], got[MAXIDS];
  int checked = 0;
  for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
    char path[256];
    struct vocab v;
    size_t n;
    snprintf(path, sizeof path, LLM "models/%s.gguf", models[i]);
    vocab_open(&v, path);
    snprintf(path, sizeof path, LLM "%s/tokens.json", models[i]);
    char *json = slurp(path, &n);
    for (char *p = strstr(json, "{\"text\""); p; p = strstr(p + 1, "{\"text\"")) {
      char text[1024];
      size_t tl = json_str(p, "text", text), nw, ng;
      nw = json_ids(p, "ids_add_special", want);
      assert_int_equal(tok_encode(&v.tok, text, tl, TOK_ADD_SPECIAL, got, MAXIDS, &ng), 0);
      assert_int_equal(ng, nw);
      assert_memory_equal(got, want, nw * sizeof *got);
      check_pieces(&v.tok, p, got, ng);
      nw = json_ids(p, "ids_no_special", want);
      assert_int_equal(tok_encode(&v.tok, text, tl, 0, got, MAXIDS, &ng), 0);
      assert_int_equal(ng, nw);
      assert_memory_equal(got, want, nw * sizeof *got);
      checked++;
    }
    free(json);
    vocab_close(&v);
  }
  print_message("%d model prompts give llama.cpp's ids and pieces\n", checked);
  assert_int_equal(checked, 27);
}

/* ---- special tokens, streaming, limits --------------------------------------- */

static void
test_special_tokens(void **state)
{
  (void)state;
  struct vocab v;
  int32_t ids[64];
  size_t n;
  vocab_open(&v, LLM "vocab/ggml-vocab-phi-3.gguf");
  const struct tokenizer *t = &v.tok;
  assert_int_equal(t->bos, 1);
  assert_int_equal(t->eos, 32000);
  assert_true(t->add_bos);
  assert_int_equal(t->eot, 32007); /* <|end|> */
  assert_true(tok_is_eog(t, 32000) && tok_is_eog(t, 32007) && !tok_is_eog(t, 1));
  const char *s = "<|user|>Hi<|end|>";
  assert_int_equal(tok_encode(t, s, strlen(s), TOK_PARSE_SPECIAL, ids, 64, &n), 0);
  assert_true(n >= 3);
  assert_int_equal(ids[0], 32010);
  assert_int_equal(ids[n - 1], 32007);
  for (size_t i = 1; i + 1 < n; i++)
    assert_true(ids[i] < 32000);
  /* Without TOK_PARSE_SPECIAL the control text is ordinary text. */
  assert_int_equal(tok_encode(t, s, strlen(s), 0, ids, 64, &n), 0);
  for (size_t i = 0; i < n; i++)
    assert_true(ids[i] < 32000);
  /* </s> is user-defined in this vocabulary: always recognized. */
  assert_int_equal(tok_encode(t, "a</s>", 5, 0, ids, 64, &n), 0);
  assert_int_equal(ids[n - 1], 2);
  /* As in llama.cpp, phi-3's specials swallow the whitespace after them
   * (but <s> does not), and the text after a special gets its space. */
  int32_t hi[8];
  size_t nhi;
  assert_int_equal(tok_encode(t, "Hi", 2, 0, hi, 8, &nhi), 0);
  const char *chat = "<|user|>\n Hi<|end|>\n<|assistant|>\n";
  assert_int_equal(tok_encode(t, chat, strlen(chat), TOK_ADD_SPECIAL | TOK_PARSE_SPECIAL,
                              ids, 64, &n), 0);
  assert_int_equal(n, 4 + nhi);
  assert_int_equal(ids[0], 1);
  assert_int_equal(ids[1], 32010);
  assert_memory_equal(ids + 2, hi, nhi * sizeof *hi);
  assert_int_equal(ids[2 + nhi], 32007);
  assert_int_equal(ids[3 + nhi], 32001);
  assert_int_equal(tok_encode(t, "<s>\nHi", 6, TOK_PARSE_SPECIAL, ids, 64, &n), 0);
  assert_int_equal(ids[0], 1);
  assert_int_equal(ids[1], 29871); /* the space before the newline */
  assert_int_equal(ids[2], 13);
  /* Pieces: control text only on request. */
  char buf[64];
  assert_int_equal(tok_piece(t, 32010, 0, buf, sizeof buf), 0);
  assert_int_equal(tok_piece(t, 32010, TOK_SHOW_SPECIAL, buf, sizeof buf), 8);
  assert_memory_equal(buf, "<|user|>", 8);
  assert_int_equal(tok_piece(t, 32064, 0, buf, sizeof buf), MN_ERANGE);
  assert_int_equal(tok_piece(t, -1, 0, buf, sizeof buf), MN_ERANGE);
  /* Empty text: nothing, or just BOS. */
  assert_int_equal(tok_encode(t, "", 0, 0, ids, 64, &n), 0);
  assert_int_equal(n, 0);
  assert_int_equal(tok_encode(t, "", 0, TOK_ADD_SPECIAL, ids, 64, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(ids[0], 1);
  vocab_close(&v);
}

static void
test_encode_limits(void **state)
{
  (void)state;
  struct vocab v;
  int32_t ids[4], all[64];
  size_t n, n_all;
  vocab_open(&v, LLM "vocab/ggml-vocab-gpt-2.gguf");
  const char *s = "The quick brown fox jumps over the lazy dog.";
  assert_int_equal(tok_encode(&v.tok, s, strlen(s), 0, all, 64, &n_all), 0);
  assert_int_equal(n_all, 10);
  assert_int_equal(tok_encode(&v.tok, s, strlen(s), 0, ids, 4, &n), MN_ENOSPC);
  assert_int_equal(n, n_all);
  assert_memory_equal(ids, all, sizeof ids);
  assert_int_equal(tok_encode(&v.tok, s, strlen(s), 0, NULL, 0, &n), MN_ENOSPC);
  assert_int_equal(n, n_all);
  /* gpt-2 has no BOS by default. */
  assert_false(v.tok.add_bos);
  assert_int_equal(tok_encode(&v.tok, s, strlen(s), TOK_ADD_SPECIAL, all, 64, &n), 0);
  assert_int_equal(n, n_all);
  /* Invalid UTF-8 is tokenized (as U+FFFD, like llama.cpp) without harm. */
  assert_int_equal(tok_encode(&v.tok, "a\xff\xc3", 3, 0, all, 64, &n), 0);
  assert_true(n >= 2);
  vocab_close(&v);
}

/* Streams ids through tok_stream_put; returns the output length. */
static size_t
stream(const struct tokenizer *t, const int32_t *ids, size_t n, char *out,
       int *split)
{
  struct tok_stream st = {0};
  char buf[1024];
  size_t m = 0;
  *split = 0;
  for (size_t i = 0; i < n; i++) {
    int k = tok_stream_put(t, &st, ids[i], 0, buf, sizeof buf);
    assert_true(k >= 0);
    if (st.n_pend)
      (*split)++;
    memcpy(out + m, buf, (size_t)k);
    m += (size_t)k;
  }
  int k = tok_stream_flush(&st, out + m, 3);
  assert_true(k >= 0);
  return m + (size_t)k;
}

static void
test_stream_utf8(void **state)
{
  (void)state;
  struct vocab v;
  int32_t ids[64];
  size_t n;
  char out[256];
  int split;
  vocab_open(&v, LLM "vocab/ggml-vocab-llama-spm.gguf");
  const struct tokenizer *t = &v.tok;
  /* The llama vocabulary spells the llama emoji with 4 byte tokens. */
  const char *s = "a \xf0\x9f\xa6\x99 b";
  assert_int_equal(tok_encode(t, s, strlen(s), 0, ids, 64, &n), 0);
  size_t m = stream(t, ids, n, out, &split);
  assert_true(split >= 3); /* held back while incomplete */
  assert_int_equal(m, strlen(s) + 1);
  assert_memory_equal(out, " a \xf0\x9f\xa6\x99 b", m);
  /* Byte tokens that never form a character come out as U+FFFD. */
  int32_t bad[] = {t->byte_tok[0xf0], t->byte_tok[0x9f], tok_lookup(t, "a", 1),
                   t->byte_tok[0xff], t->byte_tok[0xe2], t->byte_tok[0x82]};
  m = stream(t, bad, 6, out, &split);
  assert_int_equal(m, 3 + 1 + 3 + 3);
  assert_memory_equal(out, "\xef\xbf\xbd" "a" "\xef\xbf\xbd" "\xef\xbf\xbd", m);
  /* Surrogates and overlong forms are not valid UTF-8 either. */
  int32_t sur[] = {t->byte_tok[0xed], t->byte_tok[0xa0], t->byte_tok[0x80]};
  m = stream(t, sur, 3, out, &split);
  assert_int_equal(m, 9);
  int32_t ovl[] = {t->byte_tok[0xc0], t->byte_tok[0xaf]};
  m = stream(t, ovl, 2, out, &split);
  assert_int_equal(m, 6);
  char small[8];
  struct tok_stream st = {0};
  assert_int_equal(tok_stream_put(t, &st, ids[0], 0, small, sizeof small), MN_ENOSPC);
  vocab_close(&v);
}

/* ---- malformed metadata ------------------------------------------------------ */

static int
init_from(struct gw *w)
{
  struct gguf_file f;
  struct tokenizer t;
  assert_int_equal(gguf_open(&f, w->buf, w->len), 0);
  int err = tok_init(&t, &f, &tok_malloc);
  if (!err)
    tok_free(&t);
  free(w->buf);
  memset(w, 0, sizeof *w);
  return err;
}

static void
tokens(struct gw *w, int n)
{
  gw_kv_arr(w, "tokenizer.ggml.tokens", GGUF_VT_STR, (uint64_t)n);
  for (int i = 0; i < n; i++) {
    char s[8];
    snprintf(s, sizeof s, "%c", 'a' + i);
    gw_str(w, s);
  }
}

static void
test_bad_metadata(void **state)
{
  (void)state;
  struct gw w = {0};
  gw_header(&w, 3, 0, 0);
  assert_int_equal(init_from(&w), MN_ENOENT);
  gw_header(&w, 3, 0, 1);
  gw_kv_str(&w, "tokenizer.ggml.model", "bert");
  assert_int_equal(init_from(&w), MN_ENOTSUP);
  gw_header(&w, 3, 0, 1);
  gw_kv_str(&w, "tokenizer.ggml.model", "llama");
  assert_int_equal(init_from(&w), MN_ENOENT);
  gw_header(&w, 3, 0, 2);
  gw_kv_str(&w, "tokenizer.ggml.model", "llama");
  gw_kv_arr(&w, "tokenizer.ggml.tokens", GGUF_VT_I32, 1), gw_u32(&w, 0);
  assert_int_equal(init_from(&w), MN_EFORMAT);
  gw_header(&w, 3, 0, 3); /* scores of the wrong length */
  gw_kv_str(&w, "tokenizer.ggml.model", "llama");
  tokens(&w, 3);
  gw_kv_arr(&w, "tokenizer.ggml.scores", GGUF_VT_F32, 2), gw_f32(&w, 0), gw_f32(&w, 0);
  assert_int_equal(init_from(&w), MN_EFORMAT);
  gw_header(&w, 3, 0, 3);
  gw_kv_str(&w, "tokenizer.ggml.model", "gpt2");
  gw_kv_str(&w, "tokenizer.ggml.pre", "some-new-family");
  tokens(&w, 3);
  assert_int_equal(init_from(&w), MN_ENOTSUP);
  gw_header(&w, 3, 0, 2); /* BPE without merges */
  gw_kv_str(&w, "tokenizer.ggml.model", "gpt2");
  tokens(&w, 3);
  assert_int_equal(init_from(&w), MN_ENOENT);
  /* One token: the SPM default ids (BOS 1, EOS 2) do not exist here and
   * must not be emitted (found by the fuzzer). */
  gw_header(&w, 3, 0, 2);
  gw_kv_str(&w, "tokenizer.ggml.model", "llama");
  gw_kv_arr(&w, "tokenizer.ggml.tokens", GGUF_VT_STR, 1), gw_str(&w, "<unk>");
  {
    struct gguf_file f1;
    struct tokenizer t1;
    int32_t ids1[16];
    size_t n1;
    assert_int_equal(gguf_open(&f1, w.buf, w.len), 0);
    assert_int_equal(tok_init(&t1, &f1, &tok_malloc), 0);
    assert_int_equal(t1.bos, -1);
    assert_int_equal(t1.eos, -1);
    assert_int_equal(tok_encode(&t1, "ab", 2, TOK_ADD_SPECIAL, ids1, 16, &n1), 0);
    for (size_t i = 0; i < n1; i++)
      assert_int_equal(ids1[i], 0); /* unknown bytes fall back to <unk> */
    tok_free(&t1);
    free(w.buf);
    memset(&w, 0, sizeof w);
  }
  /* A minimal BPE vocabulary: merges with unknown parts are skipped, an
   * out-of-range BOS id is ignored, and encoding still works. */
  gw_header(&w, 3, 0, 5);
  gw_kv_str(&w, "tokenizer.ggml.model", "gpt2");
  gw_kv_str(&w, "tokenizer.ggml.pre", "qwen2");
  gw_kv_arr(&w, "tokenizer.ggml.tokens", GGUF_VT_STR, 3);
  gw_str(&w, "a"), gw_str(&w, "b"), gw_str(&w, "ab");
  gw_kv_arr(&w, "tokenizer.ggml.merges", GGUF_VT_STR, 3);
  gw_str(&w, "x y"), gw_str(&w, "nospace"), gw_str(&w, "a b");
  gw_kv_u32(&w, "tokenizer.ggml.bos_token_id", 99);
  struct gguf_file f;
  struct tokenizer t;
  assert_int_equal(gguf_open(&f, w.buf, w.len), 0);
  assert_int_equal(tok_init(&t, &f, &tok_malloc), 0);
  assert_int_equal(t.n_merges, 1);
  assert_int_equal(t.bos, -1);
  int32_t ids[8];
  size_t n;
  assert_int_equal(tok_encode(&t, "abzab", 5, TOK_ADD_SPECIAL, ids, 8, &n), 0);
  assert_int_equal(n, 2); /* "z" has no token and is dropped */
  assert_int_equal(ids[0], 2);
  assert_int_equal(ids[1], 2);
  tok_free(&t);
  free(w.buf);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_vocab_conformance),
    cmocka_unit_test(test_model_prompts),
    cmocka_unit_test(test_special_tokens),
    cmocka_unit_test(test_encode_limits),
    cmocka_unit_test(test_stream_utf8),
    cmocka_unit_test(test_bad_metadata),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
