/*
 * chat.c: chat prompt formats (chatml, llama2 [INST] variants, llama3,
 * phi3), following llama.cpp's llm_chat_detect_template and
 * llm_chat_apply_template for these families.
 *
 * Interface:
 *   chat_detect      family of a Jinja template, by marker strings
 *   chat_from_gguf   family of a file's tokenizer.chat_template
 *   chat_by_name, chat_name
 *   chat_apply       render messages into a prompt
 */
#include <mneme/chat.h>
#include <mneme/err.h>

#include "libc.h"

static const char *const names[CHAT_COUNT] = {
  "chatml", "llama2", "llama2-sys", "llama2-sys-bos", "llama2-sys-strip",
  "llama3", "phi3",
};

static bool
has(const char *s, size_t n, const char *w)
{
  size_t wn = strlen(w);
  for (size_t i = 0; i + wn <= n; i++)
    if (memcmp(s + i, w, wn) == 0)
      return true;
  return false;
}

int
chat_detect(const char *t, size_t n)
{
  if (has(t, n, "<|im_start|>"))
    return has(t, n, "<|im_sep|>") ? MN_ENOTSUP : CHAT_CHATML; /* phi4 */
  if (has(t, n, "[INST]")) {
    if (has(t, n, "[SYSTEM_PROMPT]") || has(t, n, "[AVAILABLE_TOOLS]") ||
        has(t, n, "' [INST] ' + system_message"))
      return MN_ENOTSUP; /* the mistral variants */
    if (has(t, n, "content.strip()"))
      return CHAT_LLAMA2_SYS_STRIP;
    if (has(t, n, "bos_token + '[INST]"))
      return CHAT_LLAMA2_SYS_BOS;
    return has(t, n, "<<SYS>>") ? CHAT_LLAMA2_SYS : CHAT_LLAMA2;
  }
  if (has(t, n, "<|assistant|>") && has(t, n, "<|end|>"))
    return CHAT_PHI3;
  if (has(t, n, "<|start_header_id|>") && has(t, n, "<|end_header_id|>"))
    return CHAT_LLAMA3;
  return MN_ENOTSUP;
}

int
chat_from_gguf(const struct gguf_file *f)
{
  const char *t;
  size_t n;
  if (gguf_get_str(f, "tokenizer.chat_template", &t, &n) != 0)
    return CHAT_CHATML;
  return chat_detect(t, n);
}

int
chat_by_name(const char *name)
{
  for (int i = 0; i < CHAT_COUNT; i++)
    if (strlen(name) == strlen(names[i]) && memcmp(name, names[i], strlen(name)) == 0)
      return i;
  return MN_ENOENT;
}

const char *
chat_name(int tmpl)
{
  return tmpl >= 0 && tmpl < CHAT_COUNT ? names[tmpl] : "?";
}

/* Output being built: counts everything, stores what fits. */
struct out {
  char *p;
  size_t cap, len;
};

static void
putn(struct out *o, const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++, o->len++)
    if (o->len < o->cap)
      o->p[o->len] = s[i];
}

static void
put(struct out *o, const char *s)
{
  putn(o, s, strlen(s));
}

static bool
is_space(char c)
{
  return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Puts s without its leading and trailing whitespace. */
static void
put_trim(struct out *o, const char *s)
{
  size_t n = strlen(s);
  while (n && is_space(*s))
    s++, n--;
  while (n && is_space(s[n - 1]))
    n--;
  putn(o, s, n);
}

static bool
is(const char *a, const char *b)
{
  return strlen(a) == strlen(b) && memcmp(a, b, strlen(a)) == 0;
}

static void
llama2(struct out *o, int tmpl, const struct chat_msg *m, size_t n)
{
  bool sys = tmpl != CHAT_LLAMA2, in_turn = true;
  put(o, "[INST] ");
  for (size_t i = 0; i < n; i++) {
    if (!in_turn) {
      in_turn = true;
      put(o, tmpl == CHAT_LLAMA2_SYS_BOS ? "<s>[INST] " : "[INST] ");
    }
    const char *c = m[i].content;
    if (is(m[i].role, "system"))
      put(o, sys ? "<<SYS>>\n" : "");
    if (tmpl == CHAT_LLAMA2_SYS_STRIP)
      put_trim(o, c);
    else
      put(o, c);
    if (is(m[i].role, "system")) {
      put(o, sys ? "\n<</SYS>>\n\n" : "\n");
    } else if (is(m[i].role, "user")) {
      put(o, " [/INST]");
    } else {
      put(o, "</s>");
      in_turn = false;
    }
  }
}

int
chat_apply(int tmpl, const struct chat_msg *m, size_t n, bool add_assistant,
           char *out, size_t cap, size_t *len)
{
  struct out o = {out, cap, 0};
  if (tmpl < 0 || tmpl >= CHAT_COUNT)
    return MN_EINVAL;
  if (tmpl >= CHAT_LLAMA2 && tmpl <= CHAT_LLAMA2_SYS_STRIP) {
    llama2(&o, tmpl, m, n); /* llama2 has no generation prompt */
  } else if (tmpl == CHAT_CHATML) {
    for (size_t i = 0; i < n; i++) {
      put(&o, "<|im_start|>"), put(&o, m[i].role), put(&o, "\n");
      put(&o, m[i].content), put(&o, "<|im_end|>\n");
    }
    if (add_assistant)
      put(&o, "<|im_start|>assistant\n");
  } else if (tmpl == CHAT_LLAMA3) {
    for (size_t i = 0; i < n; i++) {
      put(&o, "<|start_header_id|>"), put(&o, m[i].role);
      put(&o, "<|end_header_id|>\n\n"), put_trim(&o, m[i].content);
      put(&o, "<|eot_id|>");
    }
    if (add_assistant)
      put(&o, "<|start_header_id|>assistant<|end_header_id|>\n\n");
  } else { /* CHAT_PHI3 */
    for (size_t i = 0; i < n; i++) {
      put(&o, "<|"), put(&o, m[i].role), put(&o, "|>\n");
      put(&o, m[i].content), put(&o, "<|end|>\n");
    }
    if (add_assistant)
      put(&o, "<|assistant|>\n");
  }
  *len = o.len;
  if (o.len >= cap)
    return MN_ENOSPC;
  out[o.len] = 0;
  return 0;
}
