/*
 * fnum.c: exact conversions between IEEE doubles and decimal text for the
 * Floating-Point word set (REPRESENT, >FLOAT, float literals, D>F), with
 * a small binary big-number type, so results are correctly rounded
 * without libc (the kernel is freestanding).
 *
 * Interface (forth_int.h):
 *   fn_represent, fn_parse, fn_from_int
 */
#include "forth_int.h"

#define LIMBS 90 /* 2880 bits: m * 5^1074 has at most 2547 */

struct big {
  int n;              /* limbs in use */
  uint32_t d[LIMBS];  /* little-endian */
};

static void big_set(struct big *b, uint64_t v)
{
  b->d[0] = (uint32_t)v;
  b->d[1] = (uint32_t)(v >> 32);
  b->n = b->d[1] ? 2 : b->d[0] ? 1 : 0;
}

static void big_mul_add(struct big *b, uint32_t m, uint32_t a)
{
  uint64_t c = a;
  for (int i = 0; i < b->n; i++) {
    c += (uint64_t)b->d[i] * m;
    b->d[i] = (uint32_t)c;
    c >>= 32;
  }
  if (c && b->n < LIMBS)
    b->d[b->n++] = (uint32_t)c;
}

static uint32_t big_div_small(struct big *b, uint32_t m)
{
  uint64_t r = 0;
  for (int i = b->n - 1; i >= 0; i--) {
    r = r << 32 | b->d[i];
    b->d[i] = (uint32_t)(r / m);
    r %= m;
  }
  while (b->n && !b->d[b->n - 1])
    b->n--;
  return (uint32_t)r;
}

static void big_shl(struct big *b, int s)
{
  int w = s / 32, k = s % 32;
  if (!b->n)
    return;
  if (b->n + w + 1 > LIMBS)
    w = LIMBS - b->n - 1; /* callers stay far below */
  b->d[b->n + w] = 0;
  for (int i = b->n - 1; i >= 0; i--) {
    uint64_t v = (uint64_t)b->d[i] << k;
    b->d[i + w + 1] |= (uint32_t)(v >> 32);
    b->d[i + w] = (uint32_t)v;
  }
  for (int i = 0; i < w; i++)
    b->d[i] = 0;
  b->n += w + 1;
  while (b->n && !b->d[b->n - 1])
    b->n--;
}

static void big_shr1(struct big *b)
{
  for (int i = 0; i < b->n; i++)
    b->d[i] = b->d[i] >> 1 | (i + 1 < b->n ? b->d[i + 1] << 31 : 0);
  while (b->n && !b->d[b->n - 1])
    b->n--;
}

static int big_bits(const struct big *b)
{
  if (!b->n)
    return 0;
  return (b->n - 1) * 32 + 32 - __builtin_clz(b->d[b->n - 1]);
}

static int big_cmp(const struct big *a, const struct big *b)
{
  if (a->n != b->n)
    return a->n < b->n ? -1 : 1;
  for (int i = a->n - 1; i >= 0; i--)
    if (a->d[i] != b->d[i])
      return a->d[i] < b->d[i] ? -1 : 1;
  return 0;
}

static void big_sub(struct big *a, const struct big *b) /* a >= b */
{
  int64_t c = 0;
  for (int i = 0; i < a->n; i++) {
    c += (int64_t)a->d[i] - (i < b->n ? b->d[i] : 0);
    a->d[i] = (uint32_t)c;
    c >>= 32;
  }
  while (a->n && !a->d[a->n - 1])
    a->n--;
}

/* The top 64 bits of b from bit `from` down, and whether any bit below is set. */
static uint64_t big_top(const struct big *b, int from, int *sticky)
{
  uint64_t q = 0;
  *sticky = 0;
  for (int i = 0; i < from; i++) {
    int bit = i / 32 < b->n ? (b->d[i / 32] >> (i % 32)) & 1 : 0;
    if (i < from - 64)
      *sticky |= bit;
    else
      q |= (uint64_t)bit << (i - (from - 64));
  }
  return q;
}

static int bitlen64(uint64_t q) { return q ? 64 - __builtin_clzll(q) : 0; }

/* (q + fraction) * 2^e2, rounded to nearest even; sticky: a fraction. */
static double round_to_double(uint64_t q, int sticky, int e2)
{
  if (!q)
    return 0;
  int L = bitlen64(q), E = L - 1 + e2;
  if (E > 1023)
    return 0x1p1023 * 2.0;
  int keep = E < -1022 ? 53 - (-1022 - E) : 53;
  int shift = L - keep;
  uint64_t m;
  if (shift <= 0) {
    m = q;
    shift = 0;
  } else if (shift > 64) {
    return 0;
  } else {
    uint64_t rem = shift == 64 ? q : q & ((((uint64_t)1) << shift) - 1);
    uint64_t half = (uint64_t)1 << (shift - 1);
    m = shift == 64 ? 0 : q >> shift;
    if (rem > half || (rem == half && (sticky || (m & 1))))
      m++;
  }
  return fm_ldexp((double)m, e2 + shift);
}

double fn_from_int(int neg, uint64_t hi, uint64_t lo)
{
  double r;
  if (!hi) {
    r = round_to_double(lo, 0, 0);
  } else {
    int bh = bitlen64(hi);
    uint64_t q = hi << (64 - bh) | (bh == 64 ? 0 : lo >> bh);
    int sticky = bh < 64 ? (lo & ((((uint64_t)1) << bh) - 1)) != 0 : lo != 0;
    r = round_to_double(q, sticky, bh);
  }
  return neg ? -r : r;
}

/* u significant digits of |x| (finite) with 0.digits * 10^exp10 = x,
 * rounded to nearest even. digits gets u characters. */
int fn_represent(double x, char *digits, int u, int *exp10)
{
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  int be = (int)((b >> 52) & 0x7ff);
  uint64_t m = b & ((((uint64_t)1) << 52) - 1);
  if (be)
    m |= (uint64_t)1 << 52;
  int e = be ? be - 1075 : -1074;
  if (!m) {
    memset(digits, '0', (size_t)u);
    *exp10 = 1;
    return 1;
  }
  struct big n;
  int dexp = 0;
  big_set(&n, m);
  if (e >= 0) {
    big_shl(&n, e);
  } else {
    for (int i = 0; i < -e; i++)
      big_mul_add(&n, 5, 0);
    dexp = e;
  }
  char dec[800];
  int len = 0;
  while (n.n) { /* 9 digits at a time, least significant first */
    uint32_t r = big_div_small(&n, 1000000000u);
    for (int i = 0; i < 9 && len < (int)sizeof dec; i++, r /= 10)
      dec[len++] = (char)('0' + r % 10);
  }
  while (len > 1 && dec[len - 1] == '0')
    len--;
  for (int i = 0; i < len / 2; i++) { /* most significant first */
    char t = dec[i];
    dec[i] = dec[len - 1 - i];
    dec[len - 1 - i] = t;
  }
  int ex = len + dexp;
  for (int i = 0; i < u; i++)
    digits[i] = i < len ? dec[i] : '0';
  if (len > u) {
    int up = dec[u] > '5';
    if (dec[u] == '5') {
      int rest = 0;
      for (int i = u + 1; i < len; i++)
        rest |= dec[i] != '0';
      up = rest || (u > 0 && (digits[u - 1] - '0') % 2);
    }
    if (up) {
      int i = u - 1;
      while (i >= 0 && digits[i] == '9')
        digits[i--] = '0';
      if (i >= 0) {
        digits[i]++;
      } else {
        if (u > 0)
          digits[0] = '1';
        ex++;
      }
    }
  }
  *exp10 = ex;
  return 1;
}

static int is_digit(int c) { return c >= '0' && c <= '9'; }

/* Decimal digits (with the rest folded into a sticky digit) times a power
 * of ten, correctly rounded. */
static double decimal_to_double(const char *d, int nd, int e10)
{
  struct big n, v;
  big_set(&n, 0);
  for (int i = 0; i < nd; i++) {
    if (!n.n)
      big_set(&n, (uint64_t)(d[i] - '0'));
    else
      big_mul_add(&n, 10, (uint32_t)(d[i] - '0'));
  }
  if (!n.n)
    return 0;
  if (nd + e10 > 311)
    return 0x1p1023 * 2.0;
  if (nd + e10 < -326)
    return 0;
  int sticky;
  if (e10 >= 0) {
    for (int i = 0; i < e10; i++)
      big_mul_add(&n, 10, 0);
    int L = big_bits(&n);
    if (L <= 64)
      return round_to_double(big_top(&n, 64, &sticky), 0, 0);
    uint64_t q = big_top(&n, L, &sticky);
    return round_to_double(q, sticky, L - 64);
  }
  big_set(&v, 1);
  for (int i = 0; i < -e10; i++)
    big_mul_add(&v, 10, 0);
  int s = big_bits(&v) - big_bits(&n) + 63;
  if (s < 0)
    s = 0;
  big_shl(&n, s);
  struct big t = v;
  big_shl(&t, 63);
  uint64_t q = 0;
  for (int i = 63; i >= 0; i--) {
    if (big_cmp(&n, &t) >= 0) {
      big_sub(&n, &t);
      q |= (uint64_t)1 << i;
    }
    big_shr1(&t);
  }
  return round_to_double(q, n.n != 0, -s);
}

/* >FLOAT syntax: [sign] (digits [. digits0] | . digits) [exponent], where
 * exponent is (E|e|D|d) [sign] digits0 or sign digits0; all blanks is 0.
 * Returns 1 and *out, or 0 if the text is not a number. */
int fn_parse(const char *s, size_t n, double *out)
{
  size_t i = 0;
  int neg = 0, nd = 0, sig = 0, e10 = 0, sticky = 0;
  char d[48];
  while (n && s[n - 1] == ' ')
    n--;
  if (!n) {
    *out = 0;
    return 1;
  }
  if (s[i] == '+' || s[i] == '-')
    neg = s[i++] == '-';
  for (; i < n && is_digit(s[i]); i++, sig++) {
    if (nd == 0 && s[i] == '0')
      continue;
    if (nd < 40)
      d[nd++] = s[i];
    else {
      e10++;
      sticky |= s[i] != '0';
    }
  }
  if (i < n && s[i] == '.') {
    for (i++; i < n && is_digit(s[i]); i++, sig++) {
      if (nd == 0 && s[i] == '0') {
        e10--;
        continue;
      }
      if (nd < 40) {
        d[nd++] = s[i];
        e10--;
      } else {
        sticky |= s[i] != '0';
      }
    }
  }
  if (!sig)
    return 0;
  if (i < n) {
    int eneg = 0;
    long ev = 0;
    if (s[i] == 'e' || s[i] == 'E' || s[i] == 'd' || s[i] == 'D') {
      i++;
      if (i < n && (s[i] == '+' || s[i] == '-'))
        eneg = s[i++] == '-';
    } else if (s[i] == '+' || s[i] == '-') {
      eneg = s[i++] == '-';
    } else {
      return 0;
    }
    for (; i < n && is_digit(s[i]); i++)
      if (ev < 100000)
        ev = ev * 10 + (s[i] - '0');
    if (i < n)
      return 0;
    e10 += (int)(eneg ? -ev : ev);
  }
  if (sticky && nd < 48)
    d[nd++] = '1', e10--;
  double r = decimal_to_double(d, nd, e10);
  *out = neg ? -r : r;
  return 1;
}
