/*
 * settings.c: struct mn_settings as TOML text and back (settings.h).
 *
 * The text is a small subset of TOML, enough for these keys and strict
 * about it: `key = value` lines, `# comments`, blank lines, and the tables
 * [llm], [net] and [wizard]. Values are basic strings ("..." with the
 * escapes \" \\ \b \t \n \f \r \uXXXX \UXXXXXXXX), decimal integers,
 * decimal floats, true/false. Anything else is a reason in words and the
 * defaults: a corrupt store never leaves half-read settings.
 *
 *   [llm]
 *   provider = "openai"
 *   api_key = "sk-..."
 *   model = "gpt-4o-mini"
 *   base_url = "http://10.0.2.2:8080"
 *   system = "You are terse."
 *   temperature = 0.7        # absent: the provider's default
 *   max_tokens = 512
 *   tool_forth = true
 *   tool_network = false
 *   tool_files = false
 *   [net]
 *   dhcp = false
 *   ip = "10.0.2.15"  netmask = "255.255.255.0"  gateway = ...  dns = ...
 *   [wizard]
 *   done = true
 *
 * Needs no kernel (freestanding: string.h only).
 * Interface: settings_defaults, settings_to_toml, settings_from_toml,
 * settings_key_hint, settings_parse_ip, settings_format_ip.
 */
#include <stdint.h>
#include <string.h>

#include "mneme/err.h"
#include "mneme/settings.h"

void
settings_defaults(struct mn_settings *s)
{
  memset(s, 0, sizeof *s);
  s->temperature = -1.0f;
  s->tool_forth = 1;
  s->net_dhcp = 1;
}

/* ---- output -------------------------------------------------------- */

struct out {
  char *p;
  size_t cap, len;
  int full;
};

static void
put(struct out *o, const char *s, size_t n)
{
  if (o->len + n + 1 > o->cap) {
    o->full = 1;
    n = o->cap > o->len + 1 ? o->cap - o->len - 1 : 0; /* cut (messages) */
  }
  memcpy(o->p + o->len, s, n);
  o->len += n;
  o->p[o->len] = 0;
}

static void
puts_(struct out *o, const char *s)
{
  put(o, s, strlen(s));
}

static void
put_u(struct out *o, uint64_t v)
{
  char b[24];
  int i = 24;
  do
    b[--i] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  put(o, b + i, (size_t)(24 - i));
}

static const char hexd[] = "0123456789ABCDEF";

/* A TOML basic string: quotes, backslash and control characters escaped;
 * other bytes (UTF-8) as they are. */
static void
put_str(struct out *o, const char *s, size_t max)
{
  put(o, "\"", 1);
  for (size_t i = 0; i < max && s[i]; i++) {
    uint8_t c = (uint8_t)s[i];
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      put(o, e, 2);
    } else if (c == '\n') {
      put(o, "\\n", 2);
    } else if (c == '\t') {
      put(o, "\\t", 2);
    } else if (c == '\r') {
      put(o, "\\r", 2);
    } else if (c < 0x20 || c == 0x7f) {
      char e[6] = {'\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15]};
      put(o, e, 6);
    } else {
      put(o, (const char *)&c, 1);
    }
  }
  put(o, "\"", 1);
}

static void
kv_str(struct out *o, const char *k, const char *v, size_t max)
{
  puts_(o, k);
  puts_(o, " = ");
  put_str(o, v, max);
  puts_(o, "\n");
}

static void
kv_bool(struct out *o, const char *k, int v)
{
  puts_(o, k);
  puts_(o, v ? " = true\n" : " = false\n");
}

void
settings_format_ip(uint32_t ip, char *out, size_t cap)
{
  struct out o = {out, cap, 0, 0};
  if (cap)
    out[0] = 0;
  for (int i = 3; i >= 0; i--) {
    put_u(&o, (ip >> (8 * i)) & 0xff);
    if (i)
      put(&o, ".", 1);
  }
}

int
settings_to_toml(const struct mn_settings *s, char *out, size_t cap)
{
  struct out o = {out, cap, 0, 0};
  if (!cap)
    return MN_ENOSPC;
  out[0] = 0;
  puts_(&o, "# mneme settings (docs/settings.md)\n[llm]\n");
  kv_str(&o, "provider", s->provider, sizeof s->provider);
  kv_str(&o, "api_key", s->api_key, sizeof s->api_key);
  kv_str(&o, "model", s->model, sizeof s->model);
  kv_str(&o, "base_url", s->base_url, sizeof s->base_url);
  kv_str(&o, "system", s->system, sizeof s->system);
  if (s->temperature >= 0.0f) {
    /* three decimals, rounded (temperatures are 0..2) */
    float t = s->temperature > 1000.0f ? 1000.0f : s->temperature;
    uint32_t m = (uint32_t)(t * 1000.0f + 0.5f);
    char d[4] = {(char)('0' + m / 100 % 10), (char)('0' + m / 10 % 10), (char)('0' + m % 10), 0};
    puts_(&o, "temperature = ");
    put_u(&o, m / 1000);
    puts_(&o, ".");
    puts_(&o, d);
    puts_(&o, "\n");
  }
  puts_(&o, "max_tokens = ");
  put_u(&o, s->max_tokens);
  puts_(&o, "\n");
  kv_bool(&o, "tool_forth", s->tool_forth);
  kv_bool(&o, "tool_network", s->tool_network);
  kv_bool(&o, "tool_files", s->tool_files);
  puts_(&o, "\n[net]\n");
  kv_bool(&o, "dhcp", s->net_dhcp);
  const uint32_t *ips[4] = {&s->net_ip, &s->net_netmask, &s->net_gateway, &s->net_dns};
  static const char *const names[4] = {"ip", "netmask", "gateway", "dns"};
  for (int i = 0; i < 4; i++) {
    char b[16];
    settings_format_ip(*ips[i], b, sizeof b);
    kv_str(&o, names[i], b, sizeof b);
  }
  puts_(&o, "\n[wizard]\n");
  kv_bool(&o, "done", s->wizard_done);
  return o.full ? MN_ENOSPC : (int)o.len;
}

void
settings_key_hint(const struct mn_settings *s, char *out, size_t cap)
{
  size_t n = strnlen(s->api_key, sizeof s->api_key);
  struct out o = {out, cap, 0, 0};
  if (!cap)
    return;
  out[0] = 0;
  if (!n) {
    puts_(&o, "none");
    return;
  }
  puts_(&o, "...");
  /* the last four characters, only when the key is long enough that
   * they do not give most of it away */
  if (n >= 12)
    put(&o, s->api_key + n - 4, 4);
}

int
settings_parse_ip(const char *s, size_t len, uint32_t *ip)
{
  uint32_t v = 0;
  size_t i = 0;
  for (int part = 0; part < 4; part++) {
    uint32_t x = 0;
    size_t digits = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 4) {
      x = x * 10 + (uint32_t)(s[i++] - '0');
      digits++;
    }
    if (!digits || x > 255)
      return MN_EINVAL;
    v = v << 8 | x;
    if (part < 3) {
      if (i >= len || s[i] != '.')
        return MN_EINVAL;
      i++;
    }
  }
  if (i != len)
    return MN_EINVAL;
  *ip = v;
  return 0;
}

/* ---- input --------------------------------------------------------- */

struct in {
  const char *p;
  size_t len, pos;
  unsigned line;
  char *why;
  size_t why_cap;
};

/* "line N: what" into why. Returns MN_EFORMAT. */
static int
fail(struct in *in, const char *what)
{
  struct out o = {in->why, in->why_cap, 0, 0};
  if (in->why_cap) {
    in->why[0] = 0;
    puts_(&o, "line ");
    put_u(&o, in->line);
    puts_(&o, ": ");
    puts_(&o, what);
  }
  return MN_EFORMAT;
}

static int
peek(struct in *in)
{
  return in->pos < in->len ? (uint8_t)in->p[in->pos] : -1;
}

static void
skip_ws(struct in *in)
{
  while (peek(in) == ' ' || peek(in) == '\t')
    in->pos++;
}

/* After a value: spaces, an optional comment, then the line's end. */
static int
end_of_line(struct in *in)
{
  skip_ws(in);
  if (peek(in) == '#')
    while (peek(in) >= 0 && peek(in) != '\n')
      in->pos++;
  if (peek(in) == '\r')
    in->pos++;
  if (peek(in) == '\n') {
    in->pos++;
    in->line++;
    return 0;
  }
  if (peek(in) < 0)
    return 0;
  return fail(in, "unexpected text after the value");
}

static int
hexval(int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Appends code point cp as UTF-8. 0, or -1 when it does not fit. */
static int
put_utf8(char *out, size_t cap, size_t *n, uint32_t cp)
{
  char b[4];
  size_t k;
  if (cp < 0x80) {
    b[0] = (char)cp;
    k = 1;
  } else if (cp < 0x800) {
    b[0] = (char)(0xc0 | cp >> 6);
    b[1] = (char)(0x80 | (cp & 0x3f));
    k = 2;
  } else if (cp < 0x10000) {
    b[0] = (char)(0xe0 | cp >> 12);
    b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
    b[2] = (char)(0x80 | (cp & 0x3f));
    k = 3;
  } else {
    b[0] = (char)(0xf0 | cp >> 18);
    b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    b[3] = (char)(0x80 | (cp & 0x3f));
    k = 4;
  }
  if (*n + k + 1 > cap)
    return -1;
  memcpy(out + *n, b, k);
  *n += k;
  return 0;
}

/* Length of the valid UTF-8 sequence at p (at most len bytes), or 0. */
static size_t
utf8_len(const uint8_t *p, size_t len)
{
  uint8_t c = p[0];
  size_t k;
  uint32_t cp;
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf)
    k = 2, cp = c & 0x1f;
  else if (c >= 0xe0 && c <= 0xef)
    k = 3, cp = c & 0x0f;
  else if (c >= 0xf0 && c <= 0xf4)
    k = 4, cp = c & 0x07;
  else
    return 0;
  if (len < k)
    return 0;
  for (size_t i = 1; i < k; i++) {
    if ((p[i] & 0xc0) != 0x80)
      return 0;
    cp = cp << 6 | (p[i] & 0x3f);
  }
  if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
      (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    return 0;
  return k;
}

/* A basic string into out (cap bytes with the NUL). */
static int
parse_str(struct in *in, char *out, size_t cap)
{
  size_t n = 0;
  if (peek(in) != '"')
    return fail(in, "expected a string in double quotes");
  in->pos++;
  for (;;) {
    int c = peek(in);
    if (c < 0 || c == '\n')
      return fail(in, "string without its closing quote");
    in->pos++;
    if (c == '"')
      break;
    if (c == '\\') {
      int e = peek(in);
      in->pos++;
      uint32_t cp;
      switch (e) {
      case '"': cp = '"'; break;
      case '\\': cp = '\\'; break;
      case 'b': cp = '\b'; break;
      case 't': cp = '\t'; break;
      case 'n': cp = '\n'; break;
      case 'f': cp = '\f'; break;
      case 'r': cp = '\r'; break;
      case 'u':
      case 'U': {
        int digits = e == 'u' ? 4 : 8;
        cp = 0;
        for (int i = 0; i < digits; i++) {
          int h = hexval(peek(in));
          if (h < 0)
            return fail(in, "bad \\u escape");
          in->pos++;
          cp = cp << 4 | (uint32_t)h;
        }
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0)
          return fail(in, "\\u escape is not a character");
        break;
      }
      default:
        return fail(in, "unknown escape in a string");
      }
      if (put_utf8(out, cap, &n, cp))
        return fail(in, "string too long");
      continue;
    }
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return fail(in, "control character in a string");
    size_t k = utf8_len((const uint8_t *)in->p + in->pos - 1, in->len - in->pos + 1);
    if (!k)
      return fail(in, "string is not UTF-8");
    if (n + k + 1 > cap)
      return fail(in, "string too long");
    memcpy(out + n, in->p + in->pos - 1, k);
    n += k;
    in->pos += k - 1;
  }
  memset(out + n, 0, cap - n); /* a key given twice leaves no trace */
  return 0;
}

static int
parse_bool(struct in *in, uint8_t *v)
{
  if (in->len - in->pos >= 4 && !memcmp(in->p + in->pos, "true", 4)) {
    in->pos += 4;
    *v = 1;
    return 0;
  }
  if (in->len - in->pos >= 5 && !memcmp(in->p + in->pos, "false", 5)) {
    in->pos += 5;
    *v = 0;
    return 0;
  }
  return fail(in, "expected true or false");
}

static int
parse_u32(struct in *in, uint32_t *v)
{
  uint64_t x = 0;
  size_t digits = 0;
  if (peek(in) == '+')
    in->pos++;
  while (peek(in) >= '0' && peek(in) <= '9') {
    x = x * 10 + (uint64_t)(peek(in) - '0');
    in->pos++;
    if (++digits > 10 || x > 0xffffffffu)
      return fail(in, "number too large");
  }
  if (!digits)
    return fail(in, "expected a number");
  *v = (uint32_t)x;
  return 0;
}

/* A non-negative decimal float (digits, optional fraction). */
static int
parse_float(struct in *in, float *v)
{
  uint32_t ip = 0;
  if (peek(in) == '-')
    return fail(in, "temperature must not be negative");
  if (parse_u32(in, &ip))
    return MN_EFORMAT;
  if (ip > 1000)
    return fail(in, "temperature out of range (0 to 1000)");
  double f = ip, scale = 0.1;
  if (peek(in) == '.') {
    in->pos++;
    int digits = 0;
    while (peek(in) >= '0' && peek(in) <= '9') {
      if (digits++ < 9)
        f += (peek(in) - '0') * scale, scale /= 10;
      in->pos++;
    }
    if (!digits)
      return fail(in, "expected digits after the decimal point");
  }
  *v = (float)f;
  return 0;
}

static int
parse_ipval(struct in *in, uint32_t *ip)
{
  char b[20];
  if (parse_str(in, b, sizeof b))
    return MN_EFORMAT;
  if (settings_parse_ip(b, strlen(b), ip))
    return fail(in, "not an IPv4 address (a.b.c.d)");
  return 0;
}

enum table { T_TOP, T_LLM, T_NET, T_WIZARD, T_OTHER };

static int
is_key(const char *k, size_t n, const char *name)
{
  return strlen(name) == n && !memcmp(k, name, n);
}

/* Skips a value of a key this version does not know (a string, number,
 * bool or a simple array on one line). */
static int
skip_value(struct in *in)
{
  if (peek(in) == '"') {
    char tmp[1100];
    return parse_str(in, tmp, sizeof tmp);
  }
  while (peek(in) >= 0 && peek(in) != '\n' && peek(in) != '#')
    in->pos++;
  return 0;
}

static int
parse_value(struct in *in, struct mn_settings *s, enum table t, const char *k, size_t kn)
{
  if (t == T_LLM || t == T_TOP) {
    if (is_key(k, kn, "provider"))
      return parse_str(in, s->provider, sizeof s->provider);
    if (is_key(k, kn, "api_key"))
      return parse_str(in, s->api_key, sizeof s->api_key);
    if (is_key(k, kn, "model"))
      return parse_str(in, s->model, sizeof s->model);
    if (is_key(k, kn, "base_url"))
      return parse_str(in, s->base_url, sizeof s->base_url);
    if (is_key(k, kn, "system"))
      return parse_str(in, s->system, sizeof s->system);
    if (is_key(k, kn, "temperature"))
      return parse_float(in, &s->temperature);
    if (is_key(k, kn, "max_tokens"))
      return parse_u32(in, &s->max_tokens);
    if (is_key(k, kn, "tool_forth"))
      return parse_bool(in, &s->tool_forth);
    if (is_key(k, kn, "tool_network"))
      return parse_bool(in, &s->tool_network);
    if (is_key(k, kn, "tool_files"))
      return parse_bool(in, &s->tool_files);
  } else if (t == T_NET) {
    if (is_key(k, kn, "dhcp"))
      return parse_bool(in, &s->net_dhcp);
    if (is_key(k, kn, "ip"))
      return parse_ipval(in, &s->net_ip);
    if (is_key(k, kn, "netmask"))
      return parse_ipval(in, &s->net_netmask);
    if (is_key(k, kn, "gateway"))
      return parse_ipval(in, &s->net_gateway);
    if (is_key(k, kn, "dns"))
      return parse_ipval(in, &s->net_dns);
  } else if (t == T_WIZARD) {
    if (is_key(k, kn, "done"))
      return parse_bool(in, &s->wizard_done);
  }
  return skip_value(in);
}

static int
is_bare(int c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '-';
}

static int
parse_all(struct in *in, struct mn_settings *s)
{
  enum table t = T_TOP;
  while (in->pos < in->len) {
    skip_ws(in);
    int c = peek(in);
    if (c == '#' || c == '\n' || c == '\r' || c < 0) {
      if (end_of_line(in))
        return MN_EFORMAT;
      continue;
    }
    if (c == '[') {
      in->pos++;
      skip_ws(in);
      size_t k0 = in->pos;
      while (is_bare(peek(in)))
        in->pos++;
      size_t kn = in->pos - k0;
      skip_ws(in);
      if (!kn || peek(in) != ']')
        return fail(in, "bad table header");
      in->pos++;
      const char *k = in->p + k0;
      t = is_key(k, kn, "llm") ? T_LLM : is_key(k, kn, "net") ? T_NET
          : is_key(k, kn, "wizard") ? T_WIZARD : T_OTHER;
      if (end_of_line(in))
        return MN_EFORMAT;
      continue;
    }
    size_t k0 = in->pos;
    while (is_bare(peek(in)))
      in->pos++;
    size_t kn = in->pos - k0;
    if (!kn)
      return fail(in, "expected a key");
    skip_ws(in);
    if (peek(in) != '=')
      return fail(in, "expected = after the key");
    in->pos++;
    skip_ws(in);
    if (parse_value(in, s, t, in->p + k0, kn))
      return MN_EFORMAT;
    if (end_of_line(in))
      return MN_EFORMAT;
  }
  return 0;
}

int
settings_from_toml(struct mn_settings *s, const char *text, size_t len, char *why,
                   size_t why_cap)
{
  struct in in = {text, len, 0, 1, why, why_cap};
  if (why_cap)
    why[0] = 0;
  settings_defaults(s);
  if (memchr(text, 0, len)) {
    in.line = 1;
    for (size_t i = 0; i < len && text[i]; i++)
      in.line += text[i] == '\n';
    fail(&in, "NUL byte in the text");
    return MN_EFORMAT;
  }
  if (parse_all(&in, s)) {
    settings_defaults(s);
    return MN_EFORMAT;
  }
  return 0;
}
