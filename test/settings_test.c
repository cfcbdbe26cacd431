/*
 * settings_test.c: struct mn_settings as TOML and back (lib/settings.c):
 * round trips with hostile strings, hand-written TOML, every kind of
 * corrupt input giving the defaults and a reason that never shows the
 * API key, the key hint.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mneme/err.h"
#include "mneme/settings.h"

static void
full(struct mn_settings *s)
{
  settings_defaults(s);
  strcpy(s->provider, "openai");
  strcpy(s->api_key, "sk-test-\"quoted\"\\back\x01\x7f-SECRETabcd");
  strcpy(s->model, "llama \xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80");
  strcpy(s->base_url, "http://10.0.2.2:8080/v1");
  strcpy(s->system, "line one\nline two\ttab\r\n# not a comment\n[not] = a table");
  s->temperature = 0.7f;
  s->max_tokens = 4294967295u;
  s->tool_forth = 0;
  s->net_dhcp = 0;
  s->net_ip = 0x0a00020fu;
  s->net_netmask = 0xffffff00u;
  s->net_gateway = 0x0a000202u;
  s->net_dns = 0x0a000203u;
  s->wizard_done = 1;
}

static void
roundtrip(void **state)
{
  (void)state;
  struct mn_settings a, b;
  char text[SETTINGS_TEXT_MAX], why[128];
  full(&a);
  int n = settings_to_toml(&a, text, sizeof text);
  assert_true(n > 0);
  assert_int_equal(strlen(text), (size_t)n);
  assert_int_equal(settings_from_toml(&b, text, (size_t)n, why, sizeof why), 0);
  assert_string_equal(why, "");
  assert_memory_equal(&a, &b, sizeof a);
  /* the longest possible settings still fit SETTINGS_TEXT_MAX */
  memset(a.api_key, '"', sizeof a.api_key - 1);
  memset(a.system, '\\', sizeof a.system - 1);
  memset(a.base_url, 'u', sizeof a.base_url - 1);
  memset(a.model, 'm', sizeof a.model - 1);
  memset(a.provider, 'p', sizeof a.provider - 1);
  n = settings_to_toml(&a, text, sizeof text);
  assert_true(n > 0);
  assert_int_equal(settings_from_toml(&b, text, (size_t)n, why, sizeof why), 0);
  assert_memory_equal(&a, &b, sizeof a);
  /* too small a buffer */
  assert_int_equal(settings_to_toml(&a, text, 100), MN_ENOSPC);
  /* defaults round-trip too (no temperature line) */
  settings_defaults(&a);
  n = settings_to_toml(&a, text, sizeof text);
  assert_null(strstr(text, "temperature"));
  assert_int_equal(settings_from_toml(&b, text, (size_t)n, why, sizeof why), 0);
  assert_memory_equal(&a, &b, sizeof a);
}

static void
handwritten(void **state)
{
  (void)state;
  static const char t[] =
      "# hand-written\r\n"
      "[llm]\r\n"
      "provider = \"anthropic\"   # a comment\r\n"
      "model=\"claude\\u00e9\\U0001F600\"\n"
      "  temperature = 1.25\n"
      "unknown_key = [1, 2, 3]\n"
      "also_unknown = \"skip \\\" me\"\n"
      "[future]\n"
      "provider = \"ignored: not in [llm]\"\n"
      "[net]\n"
      "dhcp = false\n"
      "ip = \"192.168.1.20\"\n"
      "[wizard]\n"
      "done = true";
  struct mn_settings s;
  char why[128];
  assert_int_equal(settings_from_toml(&s, t, sizeof t - 1, why, sizeof why), 0);
  assert_string_equal(s.provider, "anthropic");
  assert_string_equal(s.model, "claude\xc3\xa9\xf0\x9f\x98\x80");
  assert_true(s.temperature > 1.2499f && s.temperature < 1.2501f);
  assert_int_equal(s.net_dhcp, 0);
  assert_int_equal(s.net_ip, 0xc0a80114u);
  assert_int_equal(s.wizard_done, 1);
  assert_int_equal(s.tool_forth, 1); /* default kept */
  assert_string_equal(s.api_key, "");
}

static void
corrupt(void **state)
{
  (void)state;
  static const struct {
    const char *text, *why;
  } cases[] = {
      {"[llm]\nprovider = \"openai\nmodel = \"x\"\n", "line 2: string without its closing quote"},
      {"[llm]\napi_key = sk-SECRET\n", "line 2: expected a string in double quotes"},
      {"provider \"x\"\n", "line 1: expected = after the key"},
      {"= \"x\"\n", "line 1: expected a key"},
      {"[llm\nprovider = \"x\"\n", "line 1: bad table header"},
      {"provider = \"x\" junk\n", "line 1: unexpected text after the value"},
      {"provider = \"0123456789abcdefXYZ\"\n", "line 1: string too long"},
      {"provider = \"\\q\"\n", "line 1: unknown escape in a string"},
      {"provider = \"\\ud800\"\n", "line 1: \\u escape is not a character"},
      {"provider = \"\\u12\"\n", "line 1: bad \\u escape"},
      {"provider = \"\xc3\x28\"\n", "line 1: string is not UTF-8"},
      {"provider = \"\x01\"\n", "line 1: control character in a string"},
      {"\n\nmax_tokens = 99999999999\n", "line 3: number too large"},
      {"max_tokens = x\n", "line 1: expected a number"},
      {"temperature = -1\n", "line 1: temperature must not be negative"},
      {"temperature = 1.\n", "line 1: expected digits after the decimal point"},
      {"tool_forth = yes\n", "line 1: expected true or false"},
      {"[net]\nip = \"10.0.2\"\n", "line 2: not an IPv4 address (a.b.c.d)"},
      {"[net]\nip = \"10.0.2.256\"\n", "line 2: not an IPv4 address (a.b.c.d)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct mn_settings s, d;
    char why[128];
    settings_defaults(&d);
    memset(&s, 0x55, sizeof s);
    assert_int_equal(settings_from_toml(&s, cases[i].text, strlen(cases[i].text), why, sizeof why),
                     MN_EFORMAT);
    assert_string_equal(why, cases[i].why);
    assert_memory_equal(&s, &d, sizeof s);
    assert_null(strstr(why, "SECRET"));
  }
  /* a NUL in the middle */
  struct mn_settings s;
  char why[64];
  assert_int_equal(settings_from_toml(&s, "a = 1\n\0b", 8, why, sizeof why), MN_EFORMAT);
  assert_string_equal(why, "line 2: NUL byte in the text");
  /* a small why buffer is cut, not overrun */
  char small[8];
  memset(small, 'x', sizeof small);
  assert_int_equal(settings_from_toml(&s, "= 1", 3, small, sizeof small), MN_EFORMAT);
  assert_int_equal(strlen(small), sizeof small - 1);
}

static void
hints(void **state)
{
  (void)state;
  struct mn_settings s;
  char h[16];
  settings_defaults(&s);
  settings_key_hint(&s, h, sizeof h);
  assert_string_equal(h, "none");
  strcpy(s.api_key, "short");
  settings_key_hint(&s, h, sizeof h);
  assert_string_equal(h, "...");
  strcpy(s.api_key, "sk-0123456789abcd");
  settings_key_hint(&s, h, sizeof h);
  assert_string_equal(h, "...abcd");
  char ip[16];
  settings_format_ip(0xffffffffu, ip, sizeof ip);
  assert_string_equal(ip, "255.255.255.255");
  uint32_t v;
  assert_int_equal(settings_parse_ip("1.2.3.4", 7, &v), 0);
  assert_int_equal(v, 0x01020304u);
  assert_int_equal(settings_parse_ip("1.2.3.4.", 8, &v), MN_EINVAL);
  assert_int_equal(settings_parse_ip("01234.2.3.4", 11, &v), MN_EINVAL);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(roundtrip),
      cmocka_unit_test(handwritten),
      cmocka_unit_test(corrupt),
      cmocka_unit_test(hints),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
