/*
 * forth_test.c: cmocka tests of the Forth VM through its embedding API:
 * each word set with snippets written from the Forth 2012 glossary,
 * error reports, hostile programs (endless loops, stack overflows, wild
 * addresses, huge allocations, bad input) that must end in a clean error,
 * fuel and yielding, host words that wait, several VMs side by side.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mneme/err.h>
#include <mneme/forth.h>

struct io {
  const char *in;
  size_t len, pos;
  size_t wait_at;     /* key returns FORTH_KEY_WAIT once at this position */
  int waited;
  char out[65536];
  size_t n;
  int fail_after;     /* allocator fails after this many calls (<0 never) */
  uint64_t now;
};

static void *t_alloc(void *ctx, void *old, size_t osz, size_t nsz)
{
  struct io *io = ctx;
  (void)osz;
  if (!nsz) {
    free(old);
    return NULL;
  }
  if (io && io->fail_after >= 0 && io->fail_after-- == 0)
    return NULL;
  return realloc(old, nsz);
}

static void t_write(void *ctx, const char *b, size_t n)
{
  struct io *io = ctx;
  if (n > sizeof io->out - 1 - io->n)
    n = sizeof io->out - 1 - io->n;
  memcpy(io->out + io->n, b, n);
  io->n += n;
  io->out[io->n] = 0;
}

static int t_key(void *ctx)
{
  struct io *io = ctx;
  if (io->pos == io->wait_at && !io->waited) {
    io->waited = 1;
    return FORTH_KEY_WAIT;
  }
  return io->pos < io->len ? (unsigned char)io->in[io->pos++] : FORTH_KEY_EOF;
}

static int t_ready(void *ctx)
{
  struct io *io = ctx;
  return io->pos < io->len;
}

static uint64_t t_now(void *ctx)
{
  return ((struct io *)ctx)->now;
}

static int interactive, line_edit;

static forth_vm *make_vm(struct io *io, const char *src)
{
  memset(io, 0, sizeof *io);
  io->in = src;
  io->len = strlen(src);
  io->wait_at = (size_t)-1;
  io->fail_after = -1;
  struct forth_host h = {.ctx = io, .alloc = t_alloc, .write = t_write,
                         .key = t_key, .key_ready = t_ready, .now_ms = t_now};
  struct forth_config c = {.data_bytes = 256 << 10, .heap_bytes = 64 << 10,
                           .interactive = interactive, .line_edit = line_edit};
  forth_vm *vm = NULL;
  assert_int_equal(forth_create(&vm, &h, &c), 0);
  return vm;
}

/* Runs src to the end of input; returns the output. */
static const char *run(struct io *io, const char *src)
{
  forth_vm *vm = make_vm(io, src);
  int r, slices = 0;
  while ((r = forth_run(vm, 100000)) == FORTH_YIELD || r == FORTH_WAIT)
    assert_true(++slices < 100000);
  assert_int_equal(r, FORTH_DONE);
  forth_destroy(vm);
  return io->out;
}

struct case_ { const char *src, *out; };

static void check_cases(const struct case_ *c, size_t n)
{
  static struct io io;
  for (size_t i = 0; i < n; i++) {
    const char *got = run(&io, c[i].src);
    if (strcmp(got, c[i].out) != 0)
      fail_msg("source: %s\nexpected: [%s]\ngot:      [%s]", c[i].src, c[i].out, got);
  }
}

#define CASES(...) do { static const struct case_ c[] = {__VA_ARGS__}; \
  check_cases(c, sizeof c / sizeof c[0]); } while (0)

static void test_core_stack_arith(void **s)
{
  CASES(
    {"1 2 + .", "3 "}, {"1 2 SWAP . .", "1 2 "}, {"1 2 OVER . . .", "1 2 1 "},
    {"1 2 3 ROT . . .", "1 3 2 "}, {"5 DUP * .", "25 "}, {"0 ?DUP . 3 ?DUP . .", "0 3 3 "},
    {"1 2 2DUP . . . .", "2 1 2 1 "}, {"1 2 3 4 2SWAP . . . .", "2 1 4 3 "},
    {"1 2 3 4 2OVER . .", "2 1 "}, {"7 3 - .", "4 "}, {"-7 2 / . -7 2 MOD .", "-3 -1 "},
    {"7 2 /MOD . .", "3 1 "}, {"10 3 5 */ .", "6 "}, {"10 3 5 */MOD . .", "6 0 "},
    {"-5 ABS . 5 NEGATE . 3 9 MIN . 3 9 MAX .", "5 -5 3 9 "},
    {"1 4 LSHIFT . 256 4 RSHIFT . -1 1 RSHIFT 0> .", "16 16 -1 "},
    {"6 3 AND . 6 3 OR . 6 3 XOR . 0 INVERT .", "2 7 5 -1 "},
    {"3 2* . -8 2/ . 5 1+ . 5 1- .", "6 -4 6 4 "},
    {"1 2 < . 2 1 < . -1 1 U< . 1 1 = . 0 0= . -3 0< .", "-1 0 0 -1 -1 -1 "},
    {"DEPTH . 1 2 DEPTH . 2DROP", "0 2 "},
    {"1 CELLS .", FORTH_CELL_BITS == 32 ? "4 " : "8 "},
    {"-1 U. ", FORTH_CELL_BITS == 32 ? "4294967295 " : "18446744073709551615 "},
    {"5 S>D . . -5 S>D . .", "0 5 -1 -5 "},
    {"2 3 UM* . . -1 2 M* . .", "0 6 -1 -2 "},
    {"10 0 7 UM/MOD . . -10 S>D 3 FM/MOD . . -10 S>D 3 SM/REM . .",
     "1 3 -4 2 -3 -1 "},
    {"1 CELLS 8 = 1 CELLS 4 = OR . 5 CHARS . 3 CHAR+ . 0 CELL+ CELL = .", "-1 5 4 -1 "},
    {": t 3 >R R@ R> ; t . .", "3 3 "}, {": t 1 2 2>R 2R@ 2R> ; t . . . .", "2 1 2 1 "},
  );
}

static void test_core_control(void **s)
{
  CASES(
    {": t 10 0 DO I . LOOP ; t", "0 1 2 3 4 5 6 7 8 9 "},
    {": t 0 10 DO I . -3 +LOOP ; t", "10 7 4 1 "},
    {": t 3 0 DO 2 0 DO J . I . LOOP LOOP ; t", "0 0 0 1 1 0 1 1 2 0 2 1 "},
    {": t 10 0 DO I 3 = IF LEAVE THEN I . LOOP ; t", "0 1 2 "},
    {": t 0 0 ?DO I . LOOP 2 0 ?DO I . LOOP ; t", "0 1 "},
    {": t BEGIN DUP . 1- DUP 0= UNTIL DROP ; 3 t", "3 2 1 "},
    {": t BEGIN DUP WHILE DUP . 1- REPEAT DROP ; 3 t", "3 2 1 "},
    {": t IF 1 ELSE 2 THEN . ; 0 t -1 t", "2 1 "},
    {": t CASE 1 OF 10 ENDOF 2 OF 20 ENDOF 30 SWAP ENDCASE . ; 1 t 2 t 9 t", "10 20 30 "},
    {": t 5 0 DO I 2 = IF UNLOOP EXIT THEN I . LOOP ; t", "0 1 "},
    {": f DUP 2 < IF DROP 1 ELSE DUP 1- RECURSE SWAP 2 - RECURSE + THEN ; 20 f .", "10946 "},
    {": t [ 1 2 + ] LITERAL ; t .", "3 "},
    {": t ['] DUP EXECUTE ; 4 t . .", "4 4 "},
    {"' + 2 3 ROT EXECUTE .", "5 "},
    {": imm 7 ; IMMEDIATE : t imm ; . ", "7 "},
    {": c POSTPONE DUP ; IMMEDIATE : t 5 c ; t . .", "5 5 "},
    {": t S\" abc\" TYPE ; t", "abc"}, {": t .\" hi\" ; t", "hi"},
    {"S\" xy\" TYPE", "xy"}, {"CHAR A . : t [CHAR] B ; t .", "65 66 "},
    {"( comment ) 1 . \\ the rest\n2 .", "1 2 "},
    {".( shown)", "shown"},
    {"S\" 1 2 + .\" EVALUATE", "3 "},
    {": t C\" abc\" COUNT TYPE ; t", "abc"},
    {"1 2 3 .S", "<3> 1 2 3 "},
  );
}

static void test_core_data(void **s)
{
  CASES(
    {"VARIABLE v 42 v ! v @ . 1 v +! v ?", "42 43 "},
    {"5 CONSTANT five five .", "5 "},
    {"CREATE a 1 , 2 , a CELL+ @ .", "2 "},
    {"CREATE b 65 C, b C@ .", "65 "},
    {": k CREATE , DOES> @ 2* ; 21 k x x .", "42 "},
    {"HERE 10 ALLOT HERE SWAP - .", "10 "},
    {"HERE ALIGNED HERE ALIGNED = . 1 ALIGNED CELL = .", "-1 -1 "},
    {"CREATE buf 8 ALLOT buf 8 CHAR z FILL buf 8 TYPE", "zzzzzzzz"},
    {"CREATE s1 3 ALLOT S\" abc\" s1 SWAP MOVE s1 3 TYPE", "abc"},
    {"HEX FF DECIMAL . 10 BASE ! 255 .", "255 255 "},
    {"$10 . #10 . %10 . 'a' .", "16 10 2 97 "},
    {"0 0 S\" 123x\" >NUMBER . DROP . .", "1 0 123 "},
    {"1 2 2VARIABLE d d 2! d 2@ . .", "2 1 "},
    {"12345 0 <# #S #> TYPE -42 . 42 U. 5 4 .R 5 4 U.R", "12345-42 42    5   5"},
    {"BL . SPACE 2 SPACES CR", "32    \n"},
    {"S\" abc\" DROP C@ .", "97 "},
  );
}

static void test_core_ext(void **s)
{
  CASES(
    {"1 2 NIP . 1 2 TUCK . . .", "2 2 1 2 "},
    {"1 0<> . 1 0> . 1 2 <> . 2 1 U> .", "-1 -1 -1 -1 "},
    {"3 1 5 WITHIN . 5 1 5 WITHIN .", "-1 0 "},
    {"1 2 3 2 PICK . 1 2 3 2 ROLL . . .", "1 1 3 2 "},
    {"TRUE . FALSE .", "-1 0 "},
    {": t KEY? . KEY . ; t\nA", "-1 65 "},
    {"KEY? .", "0 "},
    {"DEFER d : one 1 ; ' one IS d d . ACTION-OF d ' one = .", "1 -1 "},
    {"DEFER d ' DUP ' d DEFER! 3 d . . ' d DEFER@ ' DUP = .", "3 3 -1 "},
    {"10 VALUE v v . 20 TO v v . : t 30 TO v ; t v .", "10 20 30 "},
    {":NONAME 5 ; EXECUTE .", "5 "},
    {"4 BUFFER: b 9 b ! b @ .", "9 "},
    {"S\\\" a\\tb\\x41\\n\" TYPE", "a\tbA\n"},
    {": t BEGIN 1 AGAIN ; 0 .", "0 "},
    {"CHAR ) PARSE hello) TYPE", "hello"},
    {"PARSE-NAME  word TYPE", "word"},
    {"SOURCE-ID .", "0 "},
    {"SOURCE NIP 0> .", "-1 "},
    {"MARKER m : gone ; m S\" gone\" ' DUP DROP 2DROP [DEFINED] gone .", "0 "},
    {"HERE 5 ERASE HERE C@ .", "0 "},
    {": t 1 2 [COMPILE] 2DROP ; t DEPTH .", "0 "},
    {"UNUSED 0> .", "-1 "},
    {"1 2 3 3 N>R NR> . . . .", "3 3 2 1 "},
    {"VARIABLE n 0 n ! SAVE-INPUT 1 n +! n @ 2 < [IF] RESTORE-INPUT [THEN] n ?", "2 "},
    {"PAD 0> .", "-1 "},
    {"HEX 1F 2 .R DECIMAL", "1F"},
    {"0 0 <# S\" ab\" HOLDS #> TYPE", "ab"},
  );
}

static void test_double(void **s)
{
  CASES(
    {"1. D. -1. D. 12. 5 D.R", "1 -1    12"},
    {"1. 2. D+ D. 5. 3. D- D. 1. DNEGATE D.", "3 2 -1 "},
    {"1. 2. D< . 2. 1. D< . 1. 1. D= .", "-1 0 -1 "},
    {"-5. DABS D. 7. D>S . 1. 2. DMAX D. 1. 2. DMIN D.", "5 7 2 1 "},
    {"0. D0= . -1. D0< . 3. D2* D. -6. D2/ D.", "-1 -1 6 -3 "},
    {"1. 5 M+ D. 10. 3 2 M*/ D.", "6 15 "},
    {"1 2 2CONSTANT c c . .", "2 1 "},
    {": t [ 3. ] 2LITERAL ; t D.", "3 "},
    {"1 2 2VALUE w w . . 3 4 TO w w . .", "2 1 4 3 "},
    {"1 2 3 4 5 6 2ROT . . . . . .", "2 1 6 5 4 3 "},
    {"1. 2. DU< .", "-1 "},
  );
}

static void test_string(void **s)
{
  CASES(
    {"S\" abc\" S\" abd\" COMPARE . S\" b\" S\" a\" COMPARE . S\" a\" S\" a\" COMPARE .", "-1 1 0 "},
    {"S\" ab\" S\" abc\" COMPARE .", "-1 "},
    {"S\" hello world\" S\" wor\" SEARCH . TYPE", "-1 world"},
    {"S\" hello\" S\" xyz\" SEARCH . TYPE", "0 hello"},
    {"S\" abcdef\" 2 /STRING TYPE", "cdef"},
    {"S\" ab   \" -TRAILING TYPE .\" |\"", "ab|"},
    {"CREATE b 4 ALLOT b 4 BLANK b 4 TYPE .\" |\"", "    |"},
    {"CREATE b 4 ALLOT S\" abcd\" b SWAP CMOVE b 4 TYPE", "abcd"},
    {"CREATE b 5 ALLOT S\" abcd\" b SWAP MOVE b b 1+ 4 CMOVE> b 5 TYPE", "aabcd"},
    {": t S\" lit\" ; : u [ t ] SLITERAL ; u TYPE", "lit"},
  );
}

static void test_exception(void **s)
{
  CASES(
    {": t 7 THROW ; : u ['] t CATCH ; u .", "7 "},
    {": t 1 2 3 7 THROW ; : u 9 ['] t CATCH . . ; u", "7 9 "},
    {"0 THROW 1 .", "1 "},
    {": t ABORT\" boom\" ; : u ['] t CATCH ; 0 u . 1 u .", "0 -2 "},
    {": t -1 ABORT\" boom\" ; t", "boom\n"},
    {": t ABORT ; ' t CATCH .", "-1 "},
    {": t 1 0 / ; ' t CATCH .", "-10 "},
  );
}

static void test_tools(void **s)
{
  static struct io io;
  const char *o = run(&io, ": sq DUP * ; SEE sq");
  assert_non_null(strstr(o, ": sq"));
  assert_non_null(strstr(o, "DUP"));
  o = run(&io, ": zz-word ; WORDS");
  assert_non_null(strstr(o, "zz-word"));
  o = run(&io, "CREATE b 65 C, b 1 DUMP");
  assert_non_null(strstr(o, "41"));
  CASES(
    {"[DEFINED] DUP . [UNDEFINED] DUP . [DEFINED] nosuch .", "-1 0 0 "},
    {"1 [IF] 2 . [ELSE] 3 . [THEN]", "2 "},
    {"0 [IF] 2 . [ELSE] 3 . [THEN]", "3 "},
    {"0 [IF] 1 [IF] 2 . [THEN] 4 . [ELSE] 5 . [THEN]", "5 "},
    {"0 [IF]\n 2 .\n[THEN] 6 .", "6 "},
    {"VARIABLE v 3 v ! v ?", "3 "},
  );
}

static void test_memory(void **s)
{
  CASES(
    {"100 ALLOCATE . DUP 42 SWAP ! DUP @ . FREE .", "0 42 0 "},
    {"10 ALLOCATE DROP DUP 7 SWAP C! 1000 RESIZE . C@ .", "0 7 "},
    {"-1 ALLOCATE NIP 0<> .", "-1 "},
    {"100000000000 ALLOCATE NIP 0<> .", "-1 "},
    {"12345 FREE 0<> .", "-1 "},
    {"10 ALLOCATE DROP -1 RESIZE NIP 0<> .", "-1 "},
  );
}

/* ---- errors and hostile programs ---------------------------------------- */

static void test_errors(void **s)
{
  CASES(
    {"nosuchword\n1 .", "nosuchword: undefined word (THROW -13)\n1 "},
    {"DROP\n2 .", "DROP: stack underflow (THROW -4)\n2 "},
    {"1 0 /\n3 .", "/: division by zero (THROW -10)\n3 "},
    {"1 0 MOD", "MOD: division by zero (THROW -10)\n"},
    {"-1 @", "@: invalid memory address (THROW -9)\n"},
    {"0 C@", "C@: invalid memory address (THROW -9)\n"},
    {"5 0 !", "!: invalid memory address (THROW -9)\n"},
    {"HERE -1 ERASE 1 .", "1 "},
    {"0 100 ERASE", "ERASE: invalid memory address (THROW -9)\n"},
    {"0 HERE 10 MOVE", "MOVE: invalid memory address (THROW -9)\n"},
    {"HERE 0 1000000000 MOVE", "MOVE: invalid memory address (THROW -9)\n"},
    {"0 100 TYPE", "TYPE: invalid memory address (THROW -9)\n"},
    {": r 1 RECURSE ; r", "r: stack overflow (THROW -3)\n"},
    {": r RECURSE RECURSE ; r", "r: return stack overflow (THROW -5)\n"},
    {": r BEGIN 1 >R AGAIN ; r", "r: return stack overflow (THROW -5)\n"},
    {": r BEGIN R> DROP AGAIN ; r", "r: return stack underflow (THROW -6)\n"},
    {": r BEGIN DUP AGAIN ; r", "r: stack overflow (THROW -3)\n"},
    {": r 1000000 0 DO 1 LOOP ; r", "r: stack overflow (THROW -3)\n"},
    {"IF", "IF: interpreting a compile-only word (THROW -14)\n"},
    {": x THEN ;", "THEN: control structure mismatch (THROW -22)\n"},
    {": x IF ;", ";: control structure mismatch (THROW -22)\n"},
    {"0 1 1 UM/MOD", "UM/MOD: result out of range (THROW -11)\n"},
    {"1234567 EXECUTE", "EXECUTE: undefined word (THROW -13)\n"},
    {"-1 1 1 FILL 0 PICK", "FILL: invalid memory address (THROW -9)\n"},
    {"5 PICK", "PICK: stack underflow (THROW -4)\n"},
    {"1 -1 THROW 2 .\n3 .", "3 "},
    {"DEFER d d", "d: deferred word not set (THROW -258)\n"},
    {"' DUP >BODY", ">BODY: >BODY used on non-CREATEd definition (THROW -31)\n"},
    {"TO nothing", "nothing: undefined word (THROW -13)\n"},
    {"5 TO DUP", "DUP: invalid name argument (THROW -32)\n"},
    {":", ":: attempt to use zero-length string as a name (THROW -16)\n"},
    {": a [ : b ;\n' b", ":: compiler nesting (THROW -29)\nb: undefined word (THROW -13)\n"},
    {"\xff\xfe\n4 .", "input is not valid UTF-8 (THROW -256)\n4 "},
    {"\xc0\xaf\n", "input is not valid UTF-8 (THROW -256)\n"},
    {"S\" \xe2\x82\xac\" NIP .", "3 "},
    {"1 \x03 2 .", "user interrupt (THROW -28)\n2 "},
    {"1000000000 ALLOT", "ALLOT: dictionary overflow (THROW -8)\n"},
    {"-1000000000 ALLOT", "ALLOT: dictionary overflow (THROW -8)\n"},
    {": e S\" e\" EVALUATE ; e", "e: parsed string overflow (THROW -18)\n"},
    {": c ['] c CATCH ; c\n5 .", "c: undefined word (THROW -13)\n5 "},
    {": c [ ' DUP ] LITERAL CATCH ; 3 c . .", "0 3 "},
    /* the innermost CATCH gets -53; the outer ones then return 0 */
    {"DEFER d : c ['] d CATCH ; ' c IS d d .", "0 "},
  );
}

static void test_prompt(void **s)
{
  interactive = 1;
  CASES(
    {"1 .\n: x\n;\nnosuch\n2 .", "1  ok\n compiled\n ok\nnosuch: undefined word (THROW -13)\n2  ok\n"},
  );
  interactive = 0;
}

static void test_line_editor(void **s)
{
  static struct io io;
  interactive = line_edit = 1;
  /* backspace, then history (up arrow) repeats the line */
  const char *o = run(&io, "1 2 +\x7f- .\r\x1b[A\r");
  assert_string_equal(o, "1 2 +\b \b- .\r\n-1  ok\n1 2 - .\r\n-1  ok\n");
  /* Ctrl-A, Ctrl-E */
  o = run(&io, "ab\x01X\x05Y\r");
  assert_non_null(strstr(o, "XabY: undefined word"));
  /* Ctrl-U erases the line */
  o = run(&io, "junk\x15" "5 .\r");
  assert_non_null(strstr(o, "5  ok"));
  /* UTF-8: backspace and arrows move over whole code points */
  o = run(&io, "S\" \xc3\xa9\x7f" "ab\" TYPE\r");
  assert_non_null(strstr(o, "\r\nab ok"));
  o = run(&io, "S\" \xc3\xa9" "b\x1b[D\x1b[Da\x05\" TYPE\r");
  assert_non_null(strstr(o, "\r\na\xc3\xa9" "b ok"));
  /* Ctrl-C drops the line; Ctrl-D on an empty line ends the input */
  o = run(&io, "1 2\x03" "7 .\r\x04" "8 .\r");
  assert_non_null(strstr(o, "^C"));
  assert_non_null(strstr(o, "7  ok"));
  assert_null(strstr(o, "8 "));
  /* ACCEPT edits too */
  o = run(&io, "PAD 10 ACCEPT PAD SWAP TYPE\rxy\x7fz\r");
  assert_non_null(strstr(o, "xz ok"));
  o = run(&io, "PAD 0 ACCEPT .\rxy\x7f\x1b[D\x01\x05\x15\r");
  assert_non_null(strstr(o, "0  ok"));
  interactive = line_edit = 0;
}

static void test_cf_overflow(void **s)
{
  static struct io io;
  static char src[1024];
  strcpy(src, ": x");
  for (int i = 0; i < 70; i++)
    strcat(src, " BEGIN");
  strcat(src, "\n7 .");
  const char *o = run(&io, src);
  assert_string_equal(o, "BEGIN: control-flow stack overflow (THROW -52)\n7 ");
}

static void test_long_line(void **s)
{
  static struct io io;
  static char src[5000];
  memset(src, 'x', 3000);
  strcpy(src + 3000, "\n9 .");
  const char *o = run(&io, src);
  assert_string_equal(o, "input line too long (THROW -257)\n9 ");
}

static void test_fuel_and_interrupt(void **s)
{
  static struct io io;
  forth_vm *vm = make_vm(&io, ": x BEGIN AGAIN ; x\n5 .");
  for (int i = 0; i < 50; i++)
    assert_int_equal(forth_run(vm, 1000), FORTH_YIELD);
  assert_true(forth_fuel_used(vm) >= 50 * 1000);
  forth_interrupt(vm);
  int r;
  while ((r = forth_run(vm, 1000)) == FORTH_YIELD)
    ;
  assert_int_equal(r, FORTH_DONE);
  assert_string_equal(io.out, "x: user interrupt (THROW -28)\n5 ");
  assert_int_equal(forth_errors(vm), 1);
  forth_destroy(vm);
}

static void test_long_search_yields(void **s)
{
  static struct io io;
  /* 100000 zeros searched for 50000 zeros and a 1: quadratic work */
  forth_vm *vm = make_vm(&io, "CREATE t 100000 ALLOT t 100000 ERASE "
                              "CREATE p 50001 ALLOT p 50000 ERASE 1 p 50000 + C! "
                              "t 100000 p 50001 SEARCH . NIP .");
  int r, yields = 0;
  while ((r = forth_run(vm, 1000000)) == FORTH_YIELD)
    yields++;
  assert_int_equal(r, FORTH_DONE);
  assert_true(yields > 5);
  assert_string_equal(io.out, "0 100000 ");
  forth_destroy(vm);
}

static void test_deep_recursion_fuel(void **s)
{
  static struct io io;
  forth_vm *vm = make_vm(&io, ": r DUP IF 1- RECURSE THEN ; 3000 r .");
  int r, n = 0;
  while ((r = forth_run(vm, 100)) == FORTH_YIELD)
    n++;
  assert_true(n > 10);
  assert_int_equal(r, FORTH_DONE);
  assert_string_equal(io.out, "0 ");
  forth_destroy(vm);
}

static int waits;

static int h_slow(forth_vm *vm, void *ctx)
{
  if (waits++ < 2)
    return FORTH_WAIT;
  return forth_push(vm, *(forth_cell *)ctx);
}

static int h_sum(forth_vm *vm, void *ctx)
{
  forth_cell a, b;
  int r = forth_pop(vm, &b);
  if (r || (r = forth_pop(vm, &a)))
    return r;
  return forth_push(vm, a + b);
}

static void test_host_words(void **s)
{
  static struct io io;
  static forth_cell v = 42;
  forth_vm *vm = make_vm(&io, "SLOW . 2 3 HSUM . HSUM");
  assert_int_equal(forth_define(vm, "slow", h_slow, &v), 0);
  assert_int_equal(forth_define(vm, "HSUM", h_sum, NULL), 0);
  waits = 0;
  assert_int_equal(forth_run(vm, 100000), FORTH_WAIT);
  assert_int_equal(forth_run(vm, 100000), FORTH_WAIT);
  int r;
  while ((r = forth_run(vm, 100000)) == FORTH_YIELD)
    ;
  assert_int_equal(r, FORTH_DONE);
  assert_string_equal(io.out, "42 5 HSUM: stack underflow (THROW -4)\n");
  forth_destroy(vm);
}

static void test_key_wait_and_ms(void **s)
{
  static struct io io;
  forth_vm *vm = make_vm(&io, "1 . 100 MS 2 .\n");
  io.now = 1000;
  io.wait_at = 2;
  assert_int_equal(forth_run(vm, 100000), FORTH_WAIT); /* key waits */
  assert_int_equal(forth_run(vm, 100000), FORTH_WAIT); /* MS waits */
  assert_int_equal(forth_wait_deadline(vm), 1100);
  assert_string_equal(io.out, "1 ");
  assert_int_equal(forth_run(vm, 100000), FORTH_WAIT);
  io.now = 1100;
  int r;
  while ((r = forth_run(vm, 100000)) == FORTH_YIELD)
    ;
  assert_int_equal(r, FORTH_DONE);
  assert_string_equal(io.out, "1 2 ");
  forth_destroy(vm);
}

static void test_two_vms(void **s)
{
  static struct io a, b;
  forth_vm *x = make_vm(&a, ": w 1 ; w .");
  forth_vm *y = make_vm(&b, ": w 2 ; w . 3 forth_push_check");
  assert_int_equal(forth_push(y, 77), 0);
  forth_cell v;
  assert_int_equal(forth_peek(y, 0, &v), 0);
  assert_int_equal(v, 77);
  assert_int_equal(forth_pop(y, &v), 0);
  assert_int_equal(forth_pop(y, &v), -4);
  while (forth_run(x, 1000) == FORTH_YIELD)
    ;
  while (forth_run(y, 1000) == FORTH_YIELD)
    ;
  assert_string_equal(a.out, "1 ");
  assert_non_null(strstr(b.out, "2 "));
  assert_int_equal(forth_run(x, 10), MN_EINVAL); /* finished */
  forth_destroy(x);
  forth_destroy(y);
}

static void test_create_fails_cleanly(void **s)
{
  static struct io io;
  memset(&io, 0, sizeof io);
  struct forth_host h = {.ctx = &io, .alloc = t_alloc};
  for (int k = 0; k < 12; k++) {
    io.fail_after = k;
    forth_vm *vm = NULL;
    int r = forth_create(&vm, &h, NULL);
    if (r == 0) {
      forth_destroy(vm);
      continue;
    }
    assert_int_equal(r, MN_ENOMEM);
  }
  assert_int_equal(forth_create(NULL, NULL, NULL), MN_EINVAL);
}

static void run_done(forth_vm *vm)
{
  int r;
  while ((r = forth_run(vm, 10000)) == FORTH_YIELD)
    ;
  assert_int_equal(r, FORTH_DONE);
}

static void test_spawn(void **s)
{
  static struct io pio, cio, eio;
  static const char line1[] =
    "VARIABLE v 5 v ! CREATE t 3 , : cw v @ 10 + . 99 v ! t ? "
    "S\" : nw 7 ; nw .\" EVALUATE ; : bad 1 0 / ;\n";
  static char src[512];
  snprintf(src, sizeof src, "%sv ? [DEFINED] nw . : p2 3 ; p2 . t ?", line1);
  forth_vm *p = make_vm(&pio, src);
  pio.wait_at = strlen(line1);
  assert_int_equal(forth_run(p, 100000), FORTH_WAIT);
  forth_cell xt = forth_find(p, "CW");
  assert_true(xt > 0);
  memset(&cio, 0, sizeof cio);
  cio.fail_after = -1;
  struct forth_host ch = {.ctx = &cio, .alloc = t_alloc, .write = t_write,
                          .key = t_key};
  forth_vm *c = NULL, *e = NULL;
  assert_int_equal(forth_spawn(p, 0, &ch, &c), MN_EINVAL);
  assert_int_equal(forth_spawn(p, xt, &ch, &c), 0);
  run_done(c);
  assert_string_equal(cio.out, "15 3 7 ");
  run_done(p);
  assert_string_equal(pio.out, "5 0 3 3 ");
  /* a child whose word throws reports it and ends */
  memset(&eio, 0, sizeof eio);
  eio.fail_after = -1;
  ch.ctx = &eio;
  assert_int_equal(forth_spawn(c, forth_find(c, "bad"), &ch, &e), 0);
  forth_destroy(p); /* shared segments outlive the parent */
  run_done(e);
  assert_non_null(strstr(eio.out, "division by zero (THROW -10)"));
  forth_destroy(c);
  forth_destroy(e);
}

/* SPAWN shares data space copy-on-write: a child costs little, its
 * stores stay its own, siblings are independent. */
static void test_spawn_cow(void **s)
{
  static struct io pio, aio, bio, cio;
  static const char src[] =
    "VARIABLE v 1 v ! CREATE big 4000 ALLOT 100 ALLOCATE DROP CONSTANT h 7 h !\n"
    ": rd v @ . h @ . big 3999 + C@ . ; : wr 42 v ! 8 h ! v @ . h @ . ;\n"
    ": bw big 4000 65 FILL big 3999 + C@ . rd ; : mem VM-MEMORY . . ;\n";
  forth_vm *p = NULL, *a = NULL, *b = NULL, *c = NULL;
  memset(&pio, 0, sizeof pio);
  pio.in = src;
  pio.len = strlen(src);
  pio.wait_at = strlen(src);
  pio.fail_after = -1;
  struct forth_host h = {.ctx = &pio, .alloc = t_alloc, .write = t_write, .key = t_key};
  /* the kernel's sizes: 32 KiB dictionary and heap, small stacks */
  struct forth_config pc = {.data_bytes = 32 << 10, .heap_bytes = 32 << 10,
                            .code_chunk_cells = 512, .stack_cells = 256,
                            .rstack_cells = 256, .calls = 512};
  struct forth_config cc = {.stack_cells = 128, .rstack_cells = 128,
                            .calls = 256, .locals_cells = 64, .fstack_cells = 16};
  assert_int_equal(forth_create(&p, &h, &pc), 0);
  assert_int_equal(forth_run(p, 1000000), FORTH_WAIT);
  struct io *ios[3] = {&aio, &bio, &cio};
  forth_vm **vms[3] = {&a, &b, &c};
  const char *words[3] = {"rd", "wr", "bw"};
  size_t own[3], shared[3];
  for (int i = 0; i < 3; i++) {
    memset(ios[i], 0, sizeof *ios[i]);
    ios[i]->fail_after = -1;
    struct forth_host ch = {.ctx = ios[i], .alloc = t_alloc, .write = t_write, .key = t_key};
    assert_int_equal(forth_spawn_sized(p, forth_find(p, words[i]), &ch, &cc, vms[i]), 0);
    forth_memory(*vms[i], &own[i], &shared[i]);
    assert_true(own[i] <= 16 << 10); /* before it does anything */
    assert_true(shared[i] > 32 << 10); /* the dictionary and its data */
  }
  run_done(b);
  assert_string_equal(bio.out, "42 8 ");
  run_done(a);
  assert_string_equal(aio.out, "1 7 0 "); /* the sibling's stores are not seen */
  size_t o2, s2;
  forth_memory(a, &o2, &s2);
  assert_true(o2 - own[0] <= 2 * 1024); /* read only: printing took a page */
  forth_memory(b, &o2, &s2);
  if (o2 - own[1] > 4 * 1024)
    fprintf(stderr, "writer child: %zu -> %zu bytes\n", own[1], o2);
  assert_true(o2 - own[1] <= 4 * 1024); /* its variable's pages, HOLD */
  run_done(c);
  assert_string_equal(cio.out, "65 1 7 65 ");
  forth_memory(c, &o2, &s2);
  assert_true(o2 - own[2] >= 4000); /* the pages it filled are its own */
  /* the parent sees none of it, and its own stores are not seen by them */
  pio.wait_at = (size_t)-1;
  pio.in = "rd 5 v ! v ? mem\n";
  pio.len = strlen(pio.in);
  pio.pos = 0;
  run_done(p);
  assert_non_null(strstr(pio.out, "1 7 0 5 "));
  forth_destroy(p);
  forth_destroy(a);
  forth_destroy(b);
  forth_destroy(c);
}

static void test_mem_api(void **s)
{
  static struct io io;
  forth_vm *vm = make_vm(&io, "");
  assert_null(forth_mem(vm, 0, 1));
  assert_null(forth_mem(vm, -1, 8));
  assert_string_equal(forth_throw_text(-13), "undefined word");
  assert_string_equal(forth_throw_text(-4), "stack underflow");
  assert_string_equal(forth_throw_text(-45), "floating-point stack underflow");
  assert_string_equal(forth_throw_text(-300), "no such task");
  assert_string_equal(forth_throw_text(-303), "no memory for a new VM");
  forth_destroy(vm);
}

/* Locals and floats survive slices of 1 step, errors and SPAWN. */
static void test_locals_floats(void **s)
{
  static struct io io, cio;
  static const char src[] =
    ": fib {: n | a b :} 1 TO b n 0 ?DO a b + b TO a TO b LOOP a ;\n"
    ": fsum {: n :} 0E n 0 ?DO I S>F 0.5E F* F+ LOOP ;\n"
    "20 fib . 10 fsum F. 1E 0 {: x :} ; 2 1 fsum F.\n"
    ": q {: a :} a 0 / ; 5 q\n"
    "FDEPTH . 1E 2E 3E : kid FDEPTH . 7 fib . ;\n";
  forth_vm *vm = make_vm(&io, src);
  int r, slices = 0;
  io.wait_at = strlen(src);
  while ((r = forth_run(vm, 1)) == FORTH_YIELD)
    assert_true(++slices < 10000000);
  assert_int_equal(r, FORTH_WAIT);
  assert_non_null(strstr(io.out, "6765 22.5 "));
  assert_non_null(strstr(io.out, "interpreting a compile-only word"));
  assert_non_null(strstr(io.out, "division by zero"));
  assert_non_null(strstr(io.out, "0 "));
  memset(&cio, 0, sizeof cio);
  cio.fail_after = -1;
  struct forth_host ch = {.ctx = &cio, .alloc = t_alloc, .write = t_write, .key = t_key};
  forth_vm *c = NULL;
  assert_int_equal(forth_spawn(vm, forth_find(vm, "kid"), &ch, &c), 0);
  run_done(c);
  assert_string_equal(cio.out, "0 13 ");
  forth_destroy(c);
  forth_destroy(vm);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_core_stack_arith),
    cmocka_unit_test(test_locals_floats),
    cmocka_unit_test(test_core_control),
    cmocka_unit_test(test_core_data),
    cmocka_unit_test(test_core_ext),
    cmocka_unit_test(test_double),
    cmocka_unit_test(test_string),
    cmocka_unit_test(test_exception),
    cmocka_unit_test(test_tools),
    cmocka_unit_test(test_memory),
    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_prompt),
    cmocka_unit_test(test_cf_overflow),
    cmocka_unit_test(test_line_editor),
    cmocka_unit_test(test_long_line),
    cmocka_unit_test(test_fuel_and_interrupt),
    cmocka_unit_test(test_deep_recursion_fuel),
    cmocka_unit_test(test_long_search_yields),
    cmocka_unit_test(test_host_words),
    cmocka_unit_test(test_key_wait_and_ms),
    cmocka_unit_test(test_two_vms),
    cmocka_unit_test(test_create_fails_cleanly),
    cmocka_unit_test(test_mem_api),
    cmocka_unit_test(test_spawn),
    cmocka_unit_test(test_spawn_cow),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
