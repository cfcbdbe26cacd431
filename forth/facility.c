/*
 * facility.c: the Facility word set beyond KEY? and MS (words.c) and the
 * structure words (prelude.fs): AT-XY PAGE (ANSI terminal sequences),
 * EKEY EKEY? EKEY>CHAR EKEY>FKEY with the K-... key constants (escape
 * sequences of VT100/xterm keys decoded into key events), EMIT? and
 * TIME&DATE (from the embedder's epoch_s, else the time since boot).
 *
 * A key event is a character (below KEV_FKEY) or KEV_FKEY + a key number,
 * plus K-SHIFT-MASK K-CTRL-MASK K-ALT-MASK for modifiers.
 *
 * Interface:
 *   vm_install_facility
 */
#include "forth_int.h"

#define KEV_FKEY 0x40000000
#define K_SHIFT 0x01000000
#define K_CTRL 0x02000000
#define K_ALT 0x04000000

enum { K_LEFT = 1, K_RIGHT, K_UP, K_DOWN, K_HOME, K_END, K_PRIOR, K_NEXT,
       K_INSERT, K_DELETE, K_F1, K_F2, K_F3, K_F4, K_F5, K_F6, K_F7, K_F8,
       K_F9, K_F10, K_F11, K_F12 };

static void out(forth_vm *vm, const char *s) { vm_type(vm, s, strlen(s)); }

static void out_num(forth_vm *vm, ucell v)
{
  char b[24];
  int k = (int)sizeof b;
  do b[--k] = (char)('0' + v % 10); while ((v /= 10) && k > 0);
  vm_type(vm, b + k, sizeof b - (size_t)k);
}

/* AT-XY ( u1 u2 -- ): column u1, row u2, from 0. */
static int w_at_xy(forth_vm *vm, void *ctx)
{
  cell x, y;
  POP(y);
  POP(x);
  out(vm, "\033[");
  out_num(vm, (ucell)y + 1);
  out(vm, ";");
  out_num(vm, (ucell)x + 1);
  out(vm, "H");
  return 0;
}

static int w_page(forth_vm *vm, void *ctx)
{
  out(vm, "\033[2J\033[H");
  return 0;
}

static int w_emit_q(forth_vm *vm, void *ctx)
{
  PUSH(-1); /* output always takes every byte */
  return 0;
}

static int key_ready(forth_vm *vm)
{
  return vm->host.key_ready && vm->host.key_ready(vm->host.ctx);
}

static int w_ekey_q(forth_vm *vm, void *ctx)
{
  PUSH(vm->nekey || key_ready(vm) ? -1 : 0);
  return 0;
}

/* Decodes ESC [ params final / ESC O final; 0 if not a known key. */
static cell decode(const uint8_t *s, int n)
{
  static const char finals[] = "DCABHFPQRS";
  static const int fkeys[] = {K_LEFT, K_RIGHT, K_UP, K_DOWN, K_HOME, K_END,
                              K_F1, K_F2, K_F3, K_F4};
  static const int tilde[] = {0, K_HOME, K_INSERT, K_DELETE, K_END, K_PRIOR,
                              K_NEXT, K_HOME, K_END, 0, 0, 0, 0, 0, 0, K_F5,
                              0, K_F6, K_F7, K_F8, K_F9, K_F10, 0, K_F11, K_F12};
  int p[2] = {0, 0}, np = 0;
  for (int i = 2; i < n - 1; i++) {
    if (s[i] == ';') {
      if (++np > 1)
        return 0;
    } else if (s[i] >= '0' && s[i] <= '9') {
      p[np] = p[np] * 10 + (s[i] - '0');
      if (p[np] > 99)
        return 0;
    } else {
      return 0;
    }
  }
  cell mods = 0;
  if (np == 1 && p[1] >= 2) {
    int m = p[1] - 1;
    mods = (m & 1 ? K_SHIFT : 0) | (m & 2 ? K_ALT : 0) | (m & 4 ? K_CTRL : 0);
  }
  int f = s[n - 1], key = 0;
  if (f == '~')
    key = p[0] < (int)(sizeof tilde / sizeof tilde[0]) ? tilde[p[0]] : 0;
  else
    for (int i = 0; finals[i]; i++)
      if (finals[i] == f)
        key = fkeys[i];
  return key ? KEV_FKEY + key + mods : 0;
}

/* EKEY ( -- x ): waits like KEY; an escape sequence that arrives at once
 * becomes one key event, a lone ESC stays a character. */
static int w_ekey(forth_vm *vm, void *ctx)
{
  if (vm->sp >= vm->ds0 + vm->dsize)
    return -3;
  for (;;) {
    if (vm->nekey && !key_ready(vm)) { /* lone ESC or a cut sequence */
      if (vm->nekey > 1)
        break;
      vm->nekey = 0;
      PUSH(27);
      return 0;
    }
    int c = vm->host.key ? vm->host.key(vm->host.ctx) : FORTH_KEY_EOF;
    if (c == FORTH_KEY_WAIT)
      return FORTH_WAIT;
    if (c == 3 && !vm->nekey)
      return -28;
    if (c < 0) {
      if (!vm->nekey) {
        PUSH(4);
        return 0;
      }
      break;
    }
    if (!vm->nekey && c != 27) {
      PUSH(c);
      return 0;
    }
    vm->ekey[vm->nekey++] = (uint8_t)c;
    int n = vm->nekey;
    if (n == 2 && c != '[' && c != 'O') {
      vm->nekey = 0;
      PUSH(K_ALT | c); /* ESC x: Alt-x */
      return 0;
    }
    if (n >= 3 && ((vm->ekey[1] == 'O') || (c >= 0x40 && c <= 0x7e)))
      break;
    if (n == (int)sizeof vm->ekey)
      break;
  }
  cell k = decode(vm->ekey, vm->nekey);
  vm->nekey = 0;
  PUSH(k ? k : 27);
  return 0;
}

static int w_ekey_to_char(forth_vm *vm, void *ctx)
{
  cell x;
  POP(x);
  PUSH(x);
  PUSH(x >= 0 && x < 256 ? -1 : 0);
  return 0;
}

static int w_ekey_to_fkey(forth_vm *vm, void *ctx)
{
  cell x;
  POP(x);
  int f = (x & KEV_FKEY) || (x & (K_SHIFT | K_CTRL | K_ALT));
  PUSH(x);
  PUSH(f ? -1 : 0);
  return 0;
}

/* TIME&DATE ( -- sec min hour day month year ), UTC. */
static int w_time_date(forth_vm *vm, void *ctx)
{
  int64_t t = vm->host.epoch_s ? vm->host.epoch_s(vm->host.ctx)
            : vm->host.now_ms ? (int64_t)(vm->host.now_ms(vm->host.ctx) / 1000) : 0;
  int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  int64_t secs = t - days * 86400;
  /* civil date from days since 1970-01-01 (proleptic Gregorian) */
  int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
  int64_t y = yoe + era * 400 + (m <= 2);
  PUSH(secs % 60);
  PUSH(secs / 60 % 60);
  PUSH(secs / 3600);
  PUSH(d);
  PUSH(m);
  PUSH(y);
  return 0;
}

static const struct prim_def facility_words[] = {
  {"AT-XY", w_at_xy, 0}, {"PAGE", w_page, 0}, {"EMIT?", w_emit_q, 0},
  {"EKEY", w_ekey, 0}, {"EKEY?", w_ekey_q, 0},
  {"EKEY>CHAR", w_ekey_to_char, 0}, {"EKEY>FKEY", w_ekey_to_fkey, 0},
  {"TIME&DATE", w_time_date, 0},
};

static int w_constant_run(forth_vm *vm, void *ctx)
{
  PUSH((cell)(intptr_t)ctx);
  return 0;
}

int vm_install_facility(forth_vm *vm)
{
  static const struct { const char *name; cell v; } keys[] = {
    {"K-LEFT", K_LEFT}, {"K-RIGHT", K_RIGHT}, {"K-UP", K_UP}, {"K-DOWN", K_DOWN},
    {"K-HOME", K_HOME}, {"K-END", K_END}, {"K-PRIOR", K_PRIOR}, {"K-NEXT", K_NEXT},
    {"K-INSERT", K_INSERT}, {"K-DELETE", K_DELETE}, {"K-F1", K_F1}, {"K-F2", K_F2},
    {"K-F3", K_F3}, {"K-F4", K_F4}, {"K-F5", K_F5}, {"K-F6", K_F6}, {"K-F7", K_F7},
    {"K-F8", K_F8}, {"K-F9", K_F9}, {"K-F10", K_F10}, {"K-F11", K_F11},
    {"K-F12", K_F12},
  };
  int r = vm_install_table(vm, facility_words,
                           sizeof facility_words / sizeof facility_words[0]);
  for (size_t i = 0; !r && i < sizeof keys / sizeof keys[0]; i++)
    r = vm_define_host(vm, keys[i].name, w_constant_run,
                       (void *)(intptr_t)(KEV_FKEY + keys[i].v), 0);
  if (!r)
    r = vm_define_host(vm, "K-SHIFT-MASK", w_constant_run, (void *)(intptr_t)K_SHIFT, 0);
  if (!r)
    r = vm_define_host(vm, "K-CTRL-MASK", w_constant_run, (void *)(intptr_t)K_CTRL, 0);
  if (!r)
    r = vm_define_host(vm, "K-ALT-MASK", w_constant_run, (void *)(intptr_t)K_ALT, 0);
  return r;
}
