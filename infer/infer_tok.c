/*
 * infer_tok.c: mneme-infer's glue to the tokenizer and sampler.
 * The tokenizer, chat templates and sampler are the library's
 * (tokenizer.h, chat.h, sample.h, with llama.cpp's default top-k/top-p/
 * min-p); this file only adapts them to the tool.
 *
 * Interface: infer_tok_load, infer_tok_free, infer_tok_prompt,
 * infer_tok_emit, infer_tok_emit_end, infer_tok_is_eog, infer_sampler_new,
 * infer_sample, infer_sampler_free.
 */
#include "infer_tok.h"

#include <stdlib.h>
#include <string.h>

#include "mneme/chat.h"
#include "mneme/err.h"
#include "mneme/sample.h"
#include "mneme/tokenizer.h"

struct infer_tok {
  struct tokenizer t;
  struct tok_stream st;
  int chat; /* enum chat_tmpl, or negative if the template is unknown */
};

int
infer_tok_load(struct infer_tok **out, const struct gguf_file *f)
{
  struct infer_tok *k = calloc(1, sizeof *k);
  *out = NULL;
  if (!k)
    return MN_ENOMEM;
  int rc = tok_init(&k->t, f, &tok_malloc);
  if (rc) {
    free(k);
    return rc == MN_ENOENT ? 0 : rc; /* no tokenizer: token ids only */
  }
  k->chat = chat_from_gguf(f);
  *out = k;
  return 0;
}

void
infer_tok_free(struct infer_tok *tok)
{
  if (tok) {
    tok_free(&tok->t);
    free(tok);
  }
}

int
infer_tok_prompt(struct infer_tok *tok, const char *text, int chat, int32_t *ids,
                 int cap)
{
  if (!tok)
    return -1;
  char *buf = NULL;
  const char *src = text;
  unsigned flags = TOK_ADD_SPECIAL;
  if (chat) {
    struct chat_msg msg = { "user", text };
    size_t len = 0, want = strlen(text) + 4096;
    if (tok->chat < 0 || !(buf = malloc(want)))
      return -1;
    int rc = chat_apply(tok->chat, &msg, 1, true, buf, want, &len);
    if (rc == MN_ENOSPC) {
      free(buf);
      if (!(buf = malloc(len + 1)))
        return -1;
      rc = chat_apply(tok->chat, &msg, 1, true, buf, len + 1, &len);
    }
    if (rc) {
      free(buf);
      return -1;
    }
    src = buf;
    flags |= TOK_PARSE_SPECIAL;
  }
  size_t n = 0;
  int rc = tok_encode(&tok->t, src, strlen(src), flags, ids, (size_t)cap, &n);
  free(buf);
  return rc ? -1 : (int)n;
}

void
infer_tok_emit(struct infer_tok *tok, int32_t id, FILE *out)
{
  char buf[1024];
  int n = tok_stream_put(&tok->t, &tok->st, id, 0, buf, sizeof buf);
  if (n > 0)
    fwrite(buf, 1, (size_t)n, out);
}

void
infer_tok_emit_end(struct infer_tok *tok, FILE *out)
{
  char buf[8];
  int n = tok_stream_flush(&tok->st, buf, sizeof buf);
  if (n > 0)
    fwrite(buf, 1, (size_t)n, out);
  fputc('\n', out);
}

int
infer_tok_is_eog(struct infer_tok *tok, int32_t id)
{
  return tok_is_eog(&tok->t, id);
}

struct infer_sampler {
  struct sampler s;
  struct sample_cand *cand;
  int32_t *recent;
};

struct infer_sampler *
infer_sampler_new(const struct sample_params *p, int vocab, const int32_t *prompt, int np)
{
  struct infer_sampler *k = calloc(1, sizeof *k);
  if (!k || !(k->cand = malloc((size_t)vocab * sizeof *k->cand)) ||
      !(k->recent = malloc((size_t)(p->repeat_last_n > 0 ? p->repeat_last_n : 1) * 4)) ||
      sample_init(&k->s, p, vocab, k->cand, k->recent) != 0) {
    infer_sampler_free(k);
    return NULL;
  }
  for (int i = 0; i < np; i++)
    sample_accept(&k->s, prompt[i]);
  return k;
}

int32_t
infer_sample(struct infer_sampler *k, const float *logits, int vocab)
{
  int32_t id = sample_next(&k->s, logits);
  sample_accept(&k->s, id);
  return id;
}

void
infer_sampler_free(struct infer_sampler *k)
{
  if (k) {
    free(k->cand);
    free(k->recent);
    free(k);
  }
}
