/*
 * chat_test.c: chat template detection and rendering for each family,
 * and the chatml prompt of llama.cpp's server capture (stories260K),
 * whose token count the server reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mneme/chat.h>
#include <mneme/err.h>
#include <mneme/gguf.h>
#include <mneme/tokenizer.h>

#define LLM "../shared/testdata/llm/"

static int
detect(const char *s)
{
  return chat_detect(s, strlen(s));
}

static void
test_detect(void **state)
{
  (void)state;
  assert_int_equal(detect("{% for m in messages %}{{'<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"), CHAT_CHATML);
  assert_int_equal(detect("{{ bos_token }}{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n' + m['content'] | trim + '<|eot_id|>' }}{% endfor %}"), CHAT_LLAMA3);
  assert_int_equal(detect("{% if m['role'] == 'system' %}<<SYS>>\\n{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"), CHAT_LLAMA2_SYS_STRIP);
  assert_int_equal(detect("{{ bos_token + '[INST] ' + m['content'] }}<<SYS>>"), CHAT_LLAMA2_SYS_BOS);
  assert_int_equal(detect("<<SYS>>\\n{{ '[INST] ' + m['content'] + ' [/INST]' }}"), CHAT_LLAMA2_SYS);
  assert_int_equal(detect("{{ '[INST] ' + m['content'] + ' [/INST]' }}"), CHAT_LLAMA2);
  assert_int_equal(detect("[INST] [SYSTEM_PROMPT]"), MN_ENOTSUP);
  assert_int_equal(detect("<|im_start|><|im_sep|>"), MN_ENOTSUP);
  assert_int_equal(detect("{{ messages }}"), MN_ENOTSUP);
  assert_int_equal(detect(""), MN_ENOTSUP);
  assert_int_equal(chat_by_name("llama3"), CHAT_LLAMA3);
  assert_int_equal(chat_by_name("llama"), MN_ENOENT);
  assert_string_equal(chat_name(CHAT_PHI3), "phi3");
  assert_string_equal(chat_name(99), "?");

  /* The phi-3 vocabulary carries its real template. */
  struct gguf_map m;
  struct gguf_file f;
  assert_int_equal(gguf_map_file(&m, LLM "vocab/ggml-vocab-phi-3.gguf"), 0);
  assert_int_equal(gguf_open(&f, m.addr, m.size), 0);
  assert_int_equal(chat_from_gguf(&f), CHAT_PHI3);
  gguf_unmap_file(&m);
  /* stories260K has none: chatml, as llama.cpp's server used. */
  assert_int_equal(gguf_map_file(&m, LLM "models/stories260K-f32.gguf"), 0);
  assert_int_equal(gguf_open(&f, m.addr, m.size), 0);
  assert_int_equal(chat_from_gguf(&f), CHAT_CHATML);
  gguf_unmap_file(&m);
}

static const struct chat_msg conv[] = {
  {"system", "Be brief."},
  {"user", " Hi there "},
  {"assistant", "Hello."},
  {"user", "Tell a story."},
};

static void
expect(int tmpl, bool add_assistant, const char *want)
{
  char out[1024];
  size_t len;
  assert_int_equal(chat_apply(tmpl, conv, 4, add_assistant, out, sizeof out, &len), 0);
  assert_int_equal(len, strlen(want));
  assert_string_equal(out, want);
}

static void
test_render(void **state)
{
  (void)state;
  expect(CHAT_CHATML, true,
         "<|im_start|>system\nBe brief.<|im_end|>\n"
         "<|im_start|>user\n Hi there <|im_end|>\n"
         "<|im_start|>assistant\nHello.<|im_end|>\n"
         "<|im_start|>user\nTell a story.<|im_end|>\n"
         "<|im_start|>assistant\n");
  expect(CHAT_CHATML, false,
         "<|im_start|>system\nBe brief.<|im_end|>\n"
         "<|im_start|>user\n Hi there <|im_end|>\n"
         "<|im_start|>assistant\nHello.<|im_end|>\n"
         "<|im_start|>user\nTell a story.<|im_end|>\n");
  expect(CHAT_LLAMA3, true,
         "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
         "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
         "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>"
         "<|start_header_id|>user<|end_header_id|>\n\nTell a story.<|eot_id|>"
         "<|start_header_id|>assistant<|end_header_id|>\n\n");
  expect(CHAT_LLAMA2, true,
         "[INST] Be brief.\n Hi there  [/INST]Hello.</s>[INST] Tell a story. [/INST]");
  expect(CHAT_LLAMA2_SYS, true,
         "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\n Hi there  [/INST]Hello.</s>"
         "[INST] Tell a story. [/INST]");
  expect(CHAT_LLAMA2_SYS_BOS, false,
         "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\n Hi there  [/INST]Hello.</s>"
         "<s>[INST] Tell a story. [/INST]");
  expect(CHAT_LLAMA2_SYS_STRIP, true,
         "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi there [/INST]Hello.</s>"
         "[INST] Tell a story. [/INST]");
  expect(CHAT_PHI3, true,
         "<|system|>\nBe brief.<|end|>\n<|user|>\n Hi there <|end|>\n"
         "<|assistant|>\nHello.<|end|>\n<|user|>\nTell a story.<|end|>\n"
         "<|assistant|>\n");
}

static void
test_limits(void **state)
{
  (void)state;
  char out[16];
  size_t len;
  assert_int_equal(chat_apply(CHAT_CHATML, conv, 1, true, out, sizeof out, &len), MN_ENOSPC);
  assert_int_equal(len, strlen("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>assistant\n"));
  assert_int_equal(chat_apply(CHAT_CHATML, conv, 0, false, out, sizeof out, &len), 0);
  assert_int_equal(len, 0);
  assert_string_equal(out, "");
  assert_int_equal(chat_apply(CHAT_CHATML, conv, 0, false, out, 0, &len), MN_ENOSPC);
  assert_int_equal(chat_apply(-1, conv, 1, true, out, sizeof out, &len), MN_EINVAL);
  assert_int_equal(chat_apply(CHAT_COUNT, conv, 1, true, out, sizeof out, &len), MN_EINVAL);
}

/* llama.cpp's server rendered the capture's one user message with chatml
 * for stories260K and reported 46 prompt tokens (BOS included). */
static void
test_server_prompt(void **state)
{
  (void)state;
  struct gguf_map m;
  struct gguf_file f;
  struct tokenizer t;
  FILE *fp = fopen(LLM "server/raw_stream_false.response.raw", "rb");
  assert_non_null(fp);
  char resp[4096];
  size_t rn = fread(resp, 1, sizeof resp - 1, fp);
  fclose(fp);
  resp[rn] = 0;
  const char *pt = strstr(resp, "\"prompt_tokens\":");
  assert_non_null(pt);
  size_t want = (size_t)atoi(pt + strlen("\"prompt_tokens\":"));
  assert_int_equal(gguf_map_file(&m, LLM "models/stories260K-f32.gguf"), 0);
  assert_int_equal(gguf_open(&f, m.addr, m.size), 0);
  assert_int_equal(tok_init(&t, &f, &tok_malloc), 0);
  const struct chat_msg msg = {"user", "Once upon a time"};
  char prompt[256];
  size_t len, n;
  int32_t ids[128];
  assert_int_equal(chat_apply(chat_from_gguf(&f), &msg, 1, true, prompt, sizeof prompt, &len), 0);
  assert_int_equal(tok_encode(&t, prompt, len, TOK_ADD_SPECIAL | TOK_PARSE_SPECIAL,
                              ids, 128, &n), 0);
  print_message("chatml prompt: %zu tokens, llama.cpp's server: %zu\n", n, want);
  assert_int_equal(n, want);
  tok_free(&t);
  gguf_unmap_file(&m);
}

/* The phi3 prompt's markers become the vocabulary's control tokens. */
static void
test_phi3_tokens(void **state)
{
  (void)state;
  struct gguf_map m;
  struct gguf_file f;
  struct tokenizer t;
  assert_int_equal(gguf_map_file(&m, LLM "vocab/ggml-vocab-phi-3.gguf"), 0);
  assert_int_equal(gguf_open(&f, m.addr, m.size), 0);
  assert_int_equal(tok_init(&t, &f, &tok_malloc), 0);
  char prompt[512];
  size_t len, n;
  int32_t ids[128];
  assert_int_equal(chat_apply(CHAT_PHI3, conv + 1, 1, true, prompt, sizeof prompt, &len), 0);
  assert_int_equal(tok_encode(&t, prompt, len, TOK_ADD_SPECIAL | TOK_PARSE_SPECIAL,
                              ids, 128, &n), 0);
  assert_int_equal(ids[0], 1);     /* BOS */
  assert_int_equal(ids[1], 32010); /* <|user|> */
  int ends = 0, assistant = 0;
  for (size_t i = 0; i < n; i++)
    ends += ids[i] == 32007, assistant += ids[i] == 32001;
  assert_int_equal(ends, 1);
  assert_int_equal(assistant, 1);
  tok_free(&t);
  gguf_unmap_file(&m);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_detect),
    cmocka_unit_test(test_render),
    cmocka_unit_test(test_limits),
    cmocka_unit_test(test_server_prompt),
    cmocka_unit_test(test_phi3_tokens),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
