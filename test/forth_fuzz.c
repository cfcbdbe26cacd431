/*
 * forth_fuzz.c: libFuzzer target feeding random bytes to a fresh VM as
 * terminal input. Every input must end in a clean state: finished, or
 * still running when the fuel budget is spent (then interrupted). Built
 * and run by test/forth_fuzz.sh. The first byte also selects the line
 * editor and a SPAWNed child that outlives its parent.
 */
#include <mneme/forth.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct in { const uint8_t *p; size_t n, pos; };

static void *f_alloc(void *ctx, void *old, size_t osz, size_t nsz)
{
  (void)ctx;
  (void)osz;
  if (!nsz) {
    free(old);
    return NULL;
  }
  return realloc(old, nsz);
}

static void f_write(void *ctx, const char *b, size_t n)
{
  (void)ctx;
  (void)b;
  (void)n;
}

static int f_key(void *ctx)
{
  struct in *in = ctx;
  return in->pos < in->n ? in->p[in->pos++] : FORTH_KEY_EOF;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct in in = {data, size, 0};
  struct forth_host h = {.ctx = &in, .alloc = f_alloc, .write = f_write,
                         .key = f_key};
  struct forth_config c = {.data_bytes = 64 << 10, .heap_bytes = 64 << 10,
                           .code_cells = 1 << 17};
  /* the first byte picks options: line editor, and a SPAWNed child that
   * re-interprets the parent's last line after the parent has run */
  int opts = size ? data[0] : 0;
  c.line_edit = opts & 1;
  forth_vm *vm;
  if (forth_create(&vm, &h, &c))
    return 0;
  int r = FORTH_YIELD;
  for (int i = 0; i < 200 && (r == FORTH_YIELD || r == FORTH_WAIT); i++) {
    if (i % 20 == 19)
      forth_interrupt(vm);
    r = forth_run(vm, 5000);
  }
  forth_vm *child = NULL;
  if ((opts & 6) == 6 &&
      forth_spawn(vm, forth_find(vm, "INTERPRET"), &h, &child) == 0) {
    forth_destroy(vm); /* the child must not need its parent */
    vm = NULL;
    r = FORTH_YIELD;
    for (int i = 0; i < 100 && (r == FORTH_YIELD || r == FORTH_WAIT); i++)
      r = forth_run(child, 5000);
    forth_destroy(child);
  }
  forth_destroy(vm);
  return 0;
}
