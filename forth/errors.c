/*
 * errors.c: what the VM says about errors: the standard meaning of each
 * THROW code (and of mneme's own, -256.. and the kernel words' -300..),
 * and the word and file:line an error happened at, kept for (report).
 *
 * Interface:
 *   forth_throw_text, forth_set_throw_text, vm_note_error
 */
#include "forth_int.h"

static const char *(*throw_text_fn)(int code);

/* Texts for codes the kernel's services add (the network's), asked when
 * the standard's and the kernel words' tables have none. */
void forth_set_throw_text(const char *(*fn)(int code))
{
  throw_text_fn = fn;
}

#define TOP(vm) (&(vm)->src[(vm)->nsrc - 1])

const char *forth_throw_text(int code)
{
  static const char *const t[] = {
    "", "aborted", "aborted", "stack overflow", "stack underflow",
    "return stack overflow", "return stack underflow",
    "do-loops nested too deeply", "dictionary overflow",
    "invalid memory address", "division by zero", "result out of range",
    "argument type mismatch", "undefined word",
    "interpreting a compile-only word", "invalid FORGET",
    "attempt to use zero-length string as a name",
    "pictured numeric output string overflow", "parsed string overflow",
    "definition name too long", "write to a read-only location",
    "unsupported operation", "control structure mismatch",
    "address alignment exception", "invalid numeric argument",
    "return stack imbalance", "loop parameters unavailable",
    "invalid recursion", "user interrupt", "compiler nesting",
    "obsolescent feature", ">BODY used on non-CREATEd definition",
    "invalid name argument", "block read exception",
    "block write exception", "invalid block number",
    "invalid file position", "file I/O exception", "non-existent file",
    "unexpected end of file", "invalid BASE for floating point conversion",
    "loss of precision", "floating-point divide by zero",
    "floating-point result out of range", "floating-point stack overflow",
    "floating-point stack underflow", "floating-point invalid argument",
    "compilation word list deleted", "invalid POSTPONE",
    "search-order overflow", "search-order underflow",
    "compilation word list changed", "control-flow stack overflow",
    "exception stack overflow", "floating-point underflow",
    "floating-point unidentified fault", "QUIT",
    "exception in sending or receiving a character",
    "[IF], [ELSE], or [THEN] exception", "ALLOCATE", "FREE", "RESIZE",
  };
  if (code < 0 && -code < (int)(sizeof t / sizeof t[0]))
    return t[-code];
  if (code == FORTH_E_UTF8)
    return "input is not valid UTF-8";
  if (code == FORTH_E_LINE)
    return "input line too long";
  if (code == FORTH_E_DEFER)
    return "deferred word not set";
  /* the kernel words' codes (include/mneme/forth_task.h) */
  static const char *const k[] = {
    "no such task", "port cannot be opened or is not ours",
    "service request not sent or timed out", "no memory for a new VM",
    "the task ended on a CPU fault",
  };
  if (code <= -300 && code > -300 - (int)(sizeof k / sizeof k[0]))
    return k[-300 - code];
  if (throw_text_fn) {
    const char *h = throw_text_fn(code);
    if (h)
      return h;
  }
  return "";
}

void vm_note_error(forth_vm *vm, cell code)
{
  struct fsource *s = vm->nsrc ? TOP(vm) : NULL;
  size_t n = (size_t)vm->last_name_len;
  const char *p = vm_rptr(vm, vm->last_name, vm->last_name_len);
  if (!p)
    n = 0;
  if (n > sizeof vm->err_word)
    n = sizeof vm->err_word;
  if (n)
    memcpy(vm->err_word, p, n);
  vm->err_word_len = n;
  vm->err_where[0] = 0;
  if (s && s->kind == SRC_FILE) {
    char num[24];
    int k = (int)sizeof num;
    unsigned long l = s->line;
    num[--k] = 0;
    do num[--k] = (char)('0' + l % 10); while ((l /= 10) && k > 0);
    size_t a = strlen(s->name), max = sizeof vm->err_where - sizeof num - 2;
    const char *from = s->name;
    if (a > max) { /* keep the end of a long path */
      from += a - max;
      a = max;
    }
    memcpy(vm->err_where, from, a);
    vm->err_where[a] = ':';
    memcpy(vm->err_where + a + 1, num + k, strlen(num + k) + 1);
  }
}
