/*
 * tokenizer.h: text <-> token ids, from a GGUF file's tokenizer metadata,
 * with the same results as llama.cpp.
 *
 * Two vocabulary kinds (tokenizer.ggml.model):
 *   "llama"  SentencePiece style: the best-scoring merges of adjacent
 *            characters, spaces written as U+2581, a leading space added,
 *            bytes without a token become <0xNN> byte tokens.
 *   "gpt2"   byte-level BPE: the text is split into words by the
 *            pre-tokenizer of tokenizer.ggml.pre (gpt-2, llama3/llama-bpe,
 *            qwen2 families, hand-coded), each byte becomes a printable
 *            character, then the ranked merges of tokenizer.ggml.merges.
 * Control and user-defined tokens (<s>, <|im_start|>, ...) are split out
 * of the text before that: user-defined ones always, control ones only
 * with TOK_PARSE_SPECIAL.
 *
 * Memory: tok_init allocates the tables (token index, merge index)
 * through the caller's allocator once; the token strings stay in the GGUF
 * buffer, which must outlive the tokenizer. tok_encode allocates scratch
 * proportional to the text (about 200 bytes per byte of text) through the
 * same allocator, in one block freed before it returns. Decoding
 * allocates nothing.
 */
#ifndef MNEME_TOKENIZER_H
#define MNEME_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mneme/gguf.h>

/* The allocator the tokenizer uses: alloc returns memory aligned for any
 * type, or NULL. */
struct tok_alloc {
  void *(*alloc)(void *ctx, size_t size);
  void (*free)(void *ctx, void *p);
  void *ctx;
};

/* Token types (tokenizer.ggml.token_type). */
enum tok_type {
  TOK_T_UNDEFINED = 0,
  TOK_T_NORMAL = 1,
  TOK_T_UNKNOWN = 2,
  TOK_T_CONTROL = 3,
  TOK_T_USER = 4,
  TOK_T_UNUSED = 5,
  TOK_T_BYTE = 6,
};

enum tok_kind { TOK_SPM = 1, TOK_BPE = 2 };
enum tok_pre { TOK_PRE_NONE = 0, TOK_PRE_GPT2, TOK_PRE_LLAMA3, TOK_PRE_QWEN2 };

struct tok_entry {
  const char *text; /* in the GGUF buffer, not NUL-terminated */
  uint32_t len;
  float score;      /* SPM merge priority (0 for BPE) */
  uint8_t type;     /* enum tok_type */
  uint8_t strip;    /* special tokens: TOK_LSTRIP, TOK_RSTRIP */
};

/* Whitespace a special token swallows on its left / right when it is cut
 * out of the text (llama.cpp sets these per model family: phi-3's
 * specials eat the whitespace after them). */
#define TOK_LSTRIP 1u
#define TOK_RSTRIP 2u

struct tok_merge;

/* A loaded tokenizer. Read-only after tok_init: may be shared between
 * threads that each call tok_encode (the allocator must then be
 * thread-safe) and the decode functions. */
struct tokenizer {
  int kind;              /* enum tok_kind */
  int pre;               /* enum tok_pre (BPE only) */
  uint32_t n_vocab;
  int32_t bos, eos, eot, unk, pad; /* -1 when absent */
  bool add_bos, add_eos, add_space_prefix, ignore_merges;
  struct tok_entry *vocab;        /* [n_vocab] */
  uint32_t *index;                /* hash of token text -> id, [mask+1] */
  uint32_t index_mask;
  struct tok_merge *merges;       /* hash of (left id, right id) -> rank */
  uint32_t merge_mask, n_merges;
  int32_t *special;               /* control/user/unknown ids, longest first */
  uint32_t n_special;
  int32_t byte_tok[256];          /* token of each byte (-1 if none) */
  struct tok_alloc alloc;
};

/* Loads the tokenizer of GGUF file f. Returns 0; MN_ENOENT (no
 * tokenizer.ggml.model or tokens), MN_ENOTSUP (unknown model or
 * pre-tokenizer), MN_EFORMAT (arrays of the wrong type or length, more
 * than 4M tokens or merges), MN_ENOMEM. Special token ids out of range
 * are ignored (set to -1). */
int tok_init(struct tokenizer *t, const struct gguf_file *f,
             const struct tok_alloc *a);
void tok_free(struct tokenizer *t);

/* True for ids that end generation (EOS, end-of-turn). */
bool tok_is_eog(const struct tokenizer *t, int32_t id);

/* Looks up the id of a token text; -1 if none. */
int32_t tok_lookup(const struct tokenizer *t, const char *s, size_t len);

#define TOK_ADD_SPECIAL 1u   /* add BOS/EOS as the vocabulary asks */
#define TOK_PARSE_SPECIAL 2u /* text of control tokens becomes them */

/* Tokenizes text[0..len). Writes at most cap ids; *n_ids gets the count
 * of all ids (more than cap means the ids did not fit). Returns 0,
 * MN_ENOSPC (did not fit: *n_ids says how many are needed) or
 * MN_ENOMEM (scratch). */
int tok_encode(const struct tokenizer *t, const char *text, size_t len,
               unsigned flags, int32_t *ids, size_t cap, size_t *n_ids);

#define TOK_SHOW_SPECIAL 1u  /* render control tokens as their text */

/* Writes the bytes of token id to out (may be partial UTF-8). Returns
 * the length (0 for a control token without TOK_SHOW_SPECIAL), MN_ERANGE
 * (bad id) or MN_ENOSPC (cap too small; 4 * longest token always
 * suffices). */
int tok_piece(const struct tokenizer *t, int32_t id, unsigned flags,
              char *out, size_t cap);

/* Streaming detokenizer: turns a sequence of tokens into valid UTF-8,
 * holding back a character split across tokens until it is complete and
 * replacing invalid bytes with U+FFFD. Zero-initialize, then call
 * tok_stream_put per token and tok_stream_flush at the end. */
struct tok_stream {
  uint8_t pend[4];
  uint8_t n_pend;
};

/* Writes the text of token id to out; returns the bytes written,
 * MN_ERANGE (bad id) or MN_ENOSPC (cap < 3 * piece length + 12; nothing
 * consumed). out is also used as scratch: 1024 bytes fit any token of up
 * to 337 bytes. */
int tok_stream_put(const struct tokenizer *t, struct tok_stream *st,
                   int32_t id, unsigned flags, char *out, size_t cap);
/* Writes what is held back (as U+FFFD, since it is incomplete); returns
 * the bytes written (at most 3) or MN_ENOSPC if cap < 3. */
int tok_stream_flush(struct tok_stream *st, char *out, size_t cap);

/* Default allocator over malloc/free (hosted build only). */
#ifdef MN_HOSTED
extern const struct tok_alloc tok_malloc;
#endif

#endif
