/*
 * forth_int.h: internals shared by the Forth VM's files (not public).
 *
 * Memory model. Forth sees one address space: data space, addresses
 * [base, base + size), checked on every access. It holds the dictionary's
 * data (CREATE bodies, variables, strings), the terminal input buffer,
 * transient buffers, and the ALLOCATE heap at its top. Code space
 * (threaded code) and word headers live outside it, in host memory that
 * only the compiler writes, so no store from Forth can corrupt code.
 * Code space is a chain of chunks that never move, so code pointers stay
 * valid; a later SPAWN can share the frozen chunks and the header array
 * of its parent and give the child new chunks (see docs/forth.md).
 *
 * Stacks are host arrays with guard zones. The inner interpreter checks
 * depths at checkpoints (calls, branches, loops, EXECUTE, and a CHECK
 * the compiler puts every few instructions of straight-line code), so a
 * run of primitives can only touch the guard zone before it is caught.
 * Return addresses are on their own call stack, apart from the return
 * stack of >R and DO, so no Forth program can forge one.
 */
#ifndef FORTH_INT_H
#define FORTH_INT_H

#include <mneme/forth.h>
#include <stdint.h>
#include <string.h>

typedef forth_cell cell;
typedef forth_ucell ucell;
#if FORTH_CELL_BITS == 32
typedef int64_t dcell;
typedef uint64_t udcell;
#else
typedef __int128 dcell;
typedef unsigned __int128 udcell;
#endif
typedef intptr_t fcode; /* one cell of threaded code */

/* (hi:lo) / d for hi < d, without libgcc's 128-bit division (the kernel
 * build links no libgcc): returns the quotient, *rem the remainder. */
static inline ucell udiv21(ucell hi, ucell lo, ucell d, ucell *rem)
{
#if FORTH_CELL_BITS == 32
  udcell n = ((udcell)hi << 32) | lo;
  *rem = (ucell)(n % d);
  return (ucell)(n / d);
#elif defined(__x86_64__)
  ucell q, r;
  __asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(d));
  *rem = r;
  return q;
#else
  ucell q = 0;
  for (int i = 0; i < 64; i++) {
    int top = (int)(hi >> 63);
    hi = hi << 1 | lo >> 63;
    lo <<= 1;
    q <<= 1;
    if (top || hi >= d) {
      hi -= d;
      q |= 1;
    }
  }
  *rem = hi;
  return q;
#endif
}

#define CELL ((cell)sizeof(cell))
#define GUARD 64        /* guard cells around each stack */
#define CHECK_EVERY 12  /* straight-line instructions between checks */
#define NBLKBUF 4       /* block buffers */
#define MAX_SRC 16      /* nested input sources */
#define MAX_CF 64       /* control-flow stack entries */
#define MAX_CATCH 256   /* nested CATCH frames */
#define MAX_ORDER 16    /* word lists in the search order */
#define MAX_LOCALS 32   /* locals in one definition */
#define LOCAL_NAME 32   /* longest local name */
#define FORTH_WID 1     /* FORTH-WORDLIST */
#define LINE_MAX_BYTES 1024
#define CHUNK_CELLS 4096
#define VM_BASE 0x10000
#define WSEG 128        /* word headers per segment */
#define WORD(vm, i) (&(vm)->wseg[(uint32_t)(i) / WSEG][(uint32_t)(i) % WSEG]) /* first data-space address; 0..base is invalid */

/* Word kinds decide how COMPILE, treats a word. */
enum wkind {
  WK_PRIM,     /* op inlined */
  WK_HOST,     /* C function, CCALL fn ctx inlined */
  WK_COLON,    /* CALL code */
  WK_CREATE,   /* LIT body (CALL while it may still get DOES>) */
  WK_DOES,     /* CALL code */
  WK_VARIABLE, /* LIT body */
  WK_CONSTANT, /* LIT value */
  WK_2CONSTANT,/* LIT2 */
  WK_VALUE,    /* LITFETCH body */
  WK_2VALUE,
  WK_DEFER,    /* CALL code */
  WK_MARKER,
  WK_FCONSTANT,/* float constant: body holds the bits (float.c) */
  WK_FVALUE,   /* float value: body is its data-space address */
};

#define WF_IMMEDIATE 1
#define WF_HIDDEN 2
#define WF_COMPILE_ONLY 4

struct fword {
  const char *name; /* in a name chunk (never moves) */
  uint16_t len;
  uint16_t wl;      /* word list (search.c) */
  uint8_t flags, kind;
  uint16_t op;      /* WK_PRIM: opcode */
  const fcode *code;/* what EXECUTE runs */
  cell body;        /* data field address or constant value */
  cell body2;       /* 2CONSTANT high cell */
  union {
    forth_hostfn fn;/* WK_HOST */
    cell dp;        /* others: HERE when the header was made (FORGET) */
  };
  void *ctx;
};

/* Control-flow stack entry kinds. */
enum cfkind { CF_COLON, CF_ORIG, CF_DEST, CF_DO, CF_CASE, CF_OF };

struct cfent {
  int kind;
  fcode *addr;   /* patch site (orig) or target (dest) */
  fcode *leaves; /* DO: chain of LEAVE sites; CASE: chain of ENDOFs */
};

enum srckind { SRC_TERM, SRC_EVAL, SRC_FILE };

struct fsource {
  int kind;
  int handle;        /* SRC_FILE: host handle */
  cell buf, len;     /* current line (data-space address) */
  cell in;           /* saved >IN while a nested source runs */
  unsigned long line;
  cell block;        /* SRC_FILE: heap block: line buffer, read buffer */
  size_t rpos, rlen; /* SRC_FILE: unread bytes in the read buffer */
  int eof;
  cell blk;          /* SRC_EVAL of LOAD: the block number, else 0 */
  char *name;        /* SRC_FILE: its path (host memory), else "" */
};
#define SRC_NAME_MAX (LINE_MAX_BYTES + 16)

#define LEDIT_HIST 16    /* lines of history */
#define LEDIT_HLEN 256   /* longest line kept in history */

struct ledit {
  int len, pos;          /* line length and cursor (bytes) */
  int esc;               /* 1 after ESC, 2 after ESC [ */
  int after_cr;          /* a \n right after \r is ignored */
  int browse;            /* history entry shown (nhist: the new line) */
  int nhist, hfirst;
  char hist[LEDIT_HIST][LEDIT_HLEN];
};

struct catchframe {
  cell *sp, *rp, *lp;
  double *fsp;
  const fcode **csp;
  const fcode *ip;
  int nsrc;
};

struct hblock { cell addr; cell size; int used; };

/* Data space in pages (dspace.c). A page is shared (a frozen image,
 * read-only) or the VM's own; new data goes to two private contiguous
 * windows, one in the dictionary and one in the heap. */
#define PAGE_SHIFT 10
#define PAGE_BYTES ((ucell)1 << PAGE_SHIFT)
struct dpage {
  uint8_t *data;   /* NULL: never written (reads zero) */
  void *seg;       /* refcounted owner; each entry holds one reference */
  uint8_t own;     /* this VM may write it in place */
};
struct dwin {
  uint8_t *mem;    /* a segment of its own, NULL while empty */
  ucell lo, len;   /* covers [lo, lo + len); [lo, hi) is its region */
  ucell cap;       /* bytes in mem (>= len) */
  ucell hi;
};

struct forth_vm {
  /* Registers, valid while not inside forth_run's loop. */
  const fcode *ip;
  cell *sp, *rp;
  const fcode **csp;

  /* Stacks: ds0/rs0 are the empty positions; guard zones around. */
  cell *ds, *ds0, *rs, *rs0;
  const fcode **cs, **cs0;
  unsigned dsize, rsize, csize;

  /* Locals (locals.c): frames on a stack of their own; lp is the top. */
  cell *ls, *ls0, *lp;
  unsigned lsize;
  /* Floating point (float.c): IEEE doubles on a stack of their own;
   * fsp points at the top item, fs0 below the first. */
  double *fs, *fs0, *fsp;
  unsigned fsize;
  int precision;         /* PRECISION, 0 = default 15 */

  /* Data space (dspace.c). pmem/plo/plim: the dictionary window for the
   * inner interpreter's fast path (plim = len - 15, or 0). */
  uint8_t *pmem; ucell plo, plim;
  ucell base, size;      /* valid addresses [base, base + size) */
  struct dpage *pages; size_t npages;
  struct dwin win[2];    /* 0: dictionary, 1: heap */
  void *grave[16]; int ngrave; /* segments freed after the current C word */
  int oom;               /* a data-space page could not be allocated */
  cell here, dict_end;   /* dictionary: [base, dict_end) */
  cell dict_start;       /* HERE never goes below this */
  cell heap_lo, heap_hi; /* ALLOCATE heap */
  struct hblock *blocks; int nblocks, capblocks, maxblocks;

  /* Fixed data-space cells and buffers. */
  cell a_state, a_base, a_in, a_tib, a_pad, a_hold, a_word, a_sbuf;
  cell a_blk, a_scr;     /* BLK SCR */
  cell hold_ptr;         /* pictured output position */
  int sbuf_next;

  /* Words and names, in segments that never move. Segments below
   * frozen_words are shared with SPAWNed VMs and never written again. */
  struct fword **wseg; size_t nwseg, capwseg;
  uint32_t nwords, frozen_words;
  char *nchunk; size_t nfill, ncap; /* current name chunk */
  void **segs; size_t nsegs, capsegs; /* refcounted segments in use */
  const fcode *undef_code;
  uint32_t latest;       /* most recent definition */
  uint32_t defining;     /* word being compiled, 0 if none */

  /* Code space. */
  fcode *cp, *cp_end;
  size_t nchunks, code_cells_max, code_cells_used;
  fcode boot_code[12];   /* a SPAWNed VM's first code */
  fcode *last_op;        /* previous instruction, for fusion; NULL at labels */
  fcode *prev_op;        /* the one before it */
  int straight;          /* instructions since the last check */

  /* Compiler. */
  struct cfent *cf; int ncf; /* MAX_CF entries, allocated when first used */
  const fcode *def_start;
  int nlocals, nlpending;  /* locals of the definition, declared + pending */
  uint8_t llen[MAX_LOCALS];
  char (*lname)[LOCAL_NAME]; /* MAX_LOCALS names, allocated when first used */

  /* Exceptions. */
  struct catchframe *catches; int ncatch, catch_cap; /* grows to MAX_CATCH */
  char err_word[48]; size_t err_word_len;
  char err_where[300];
  cell abort_msg, abort_len;
  cell last_name, last_name_len;
  unsigned long nerrors;

  /* Input. */
  struct fsource src[MAX_SRC]; int nsrc;
  char *incl; size_t incl_len, incl_cap; /* names INCLUDED (REQUIRED) */
  /* Block buffers (file.c), in the ALLOCATE heap once used. */
  cell bbuf[NBLKBUF]; cell bno[NBLKBUF]; uint8_t bdirty[NBLKBUF];
  unsigned buse[NBLKBUF], bclock; int bcur;
  cell bfile, bfile_len;  /* blocks file name (heap), 0: "blocks.fb" */
  int line_pos;          /* terminal line being read (resumable) */
  int line_skip;         /* discard until newline (overlong line) */
  int accept_pos;
  uint64_t ms_deadline;  /* waiting MS */
  int ms_active;
  int search_active;     /* a SEARCH resumes at search_i */
  cell search_i;

  struct ledit *ledit;   /* terminal line editor (cfg.line_edit), once used */

  /* Search order (search.c): word list ids, 1 = FORTH-WORDLIST. */
  uint16_t order[MAX_ORDER]; int norder;
  uint16_t current;      /* compilation word list */
  uint16_t nwl;          /* word lists made so far */
  uint32_t fence;        /* FORGET cannot go below this word */
  cell nbuf[2]; int nbuf_next; /* NAME>STRING copies (heap blocks) */
  cell subst;            /* SUBSTITUTE's list (substitute.c) */
  uint8_t ekey[8]; int nekey; /* EKEY: an escape sequence being read */

  volatile int interrupt;
  int done;
  unsigned long fuel_used;

  struct forth_host host;
  struct forth_config cfg;
  const fcode *quit_code;
  const fcode *halt_code;
};

/* Opcodes of the inner interpreter: X(enum, forth name or 0, flags). */
#define FORTH_OPS(X) \
  X(OP_NOOP, "CHARS", 0) X(OP_EXIT, "EXIT", WF_COMPILE_ONLY) \
  X(OP_CALL, 0, 0) X(OP_LIT, 0, 0) X(OP_LIT2, 0, 0) \
  X(OP_BRANCH, 0, 0) X(OP_QBRANCH, 0, 0) X(OP_DO, 0, 0) X(OP_QDO, 0, 0) \
  X(OP_LOOP, 0, 0) X(OP_PLOOP, 0, 0) X(OP_LEAVE, 0, 0) \
  X(OP_UNLOOP, "UNLOOP", WF_COMPILE_ONLY) X(OP_I, "I", WF_COMPILE_ONLY) \
  X(OP_J, "J", WF_COMPILE_ONLY) X(OP_CCALL, 0, 0) X(OP_CHECK, 0, 0) \
  X(OP_HALT, "BYE", 0) X(OP_EXECUTE, "EXECUTE", 0) X(OP_DEFER, 0, 0) \
  X(OP_CATCH, "CATCH", 0) X(OP_CATCH_END, 0, 0) X(OP_THROW, "THROW", 0) \
  X(OP_RETHROW, 0, 0) X(OP_OF, 0, 0) X(OP_LITFETCH, 0, 0) \
  X(OP_LITSTORE, 0, 0) X(OP_LIT2FETCH, 0, 0) X(OP_LIT2STORE, 0, 0) \
  X(OP_DOES, 0, 0) X(OP_ABORTQ, 0, 0) \
  X(OP_DUP, "DUP", 0) X(OP_DROP, "DROP", 0) X(OP_SWAP, "SWAP", 0) \
  X(OP_OVER, "OVER", 0) X(OP_ROT, "ROT", 0) X(OP_MROT, "-ROT", 0) \
  X(OP_NIP, "NIP", 0) X(OP_TUCK, "TUCK", 0) X(OP_QDUP, "?DUP", 0) \
  X(OP_2DUP, "2DUP", 0) X(OP_2DROP, "2DROP", 0) X(OP_2SWAP, "2SWAP", 0) \
  X(OP_2OVER, "2OVER", 0) X(OP_TOR, ">R", WF_COMPILE_ONLY) \
  X(OP_RFROM, "R>", WF_COMPILE_ONLY) X(OP_RFETCH, "R@", WF_COMPILE_ONLY) \
  X(OP_2TOR, "2>R", WF_COMPILE_ONLY) X(OP_2RFROM, "2R>", WF_COMPILE_ONLY) \
  X(OP_2RFETCH, "2R@", WF_COMPILE_ONLY) \
  X(OP_ADD, "+", 0) X(OP_SUB, "-", 0) X(OP_MUL, "*", 0) X(OP_DIV, "/", 0) \
  X(OP_MOD, "MOD", 0) X(OP_DIVMOD, "/MOD", 0) X(OP_NEGATE, "NEGATE", 0) \
  X(OP_ABS, "ABS", 0) X(OP_MIN, "MIN", 0) X(OP_MAX, "MAX", 0) \
  X(OP_AND, "AND", 0) X(OP_OR, "OR", 0) X(OP_XOR, "XOR", 0) \
  X(OP_INVERT, "INVERT", 0) X(OP_LSHIFT, "LSHIFT", 0) \
  X(OP_RSHIFT, "RSHIFT", 0) X(OP_2STAR, "2*", 0) X(OP_2SLASH, "2/", 0) \
  X(OP_1PLUS, "1+", 0) X(OP_1MINUS, "1-", 0) X(OP_CELLPLUS, "CELL+", 0) \
  X(OP_CELLS, "CELLS", 0) X(OP_CHARPLUS, "CHAR+", 0) \
  X(OP_EQ, "=", 0) X(OP_NE, "<>", 0) X(OP_LT, "<", 0) X(OP_GT, ">", 0) \
  X(OP_ULT, "U<", 0) X(OP_UGT, "U>", 0) X(OP_ZEQ, "0=", 0) \
  X(OP_ZNE, "0<>", 0) X(OP_ZLT, "0<", 0) X(OP_ZGT, "0>", 0) \
  X(OP_WITHIN, "WITHIN", 0) \
  X(OP_FETCH, "@", 0) X(OP_STORE, "!", 0) X(OP_CFETCH, "C@", 0) \
  X(OP_CSTORE, "C!", 0) X(OP_PSTORE, "+!", 0) X(OP_2FETCH, "2@", 0) \
  X(OP_2STORE, "2!", 0) \
  X(OP_UMSTAR, "UM*", 0) X(OP_MSTAR, "M*", 0) X(OP_UMSLMOD, "UM/MOD", 0) \
  X(OP_SMSLREM, "SM/REM", 0) X(OP_FMSLMOD, "FM/MOD", 0) \
  X(OP_STARSLASH, "*/", 0) X(OP_STARSLASHMOD, "*/MOD", 0) \
  X(OP_DPLUS, "D+", 0) X(OP_DMINUS, "D-", 0) X(OP_DNEGATE, "DNEGATE", 0) \
  X(OP_STOD, "S>D", 0) \
  X(OP_LIT_ADD, 0, 0) X(OP_LIT_SUB, 0, 0) X(OP_LIT_EQ, 0, 0) \
  X(OP_LIT_LT, 0, 0) X(OP_LIT_AND, 0, 0) X(OP_LIT_MUL, 0, 0) \
  X(OP_ZEQ_QBRANCH, 0, 0) X(OP_LT_QBRANCH, 0, 0) X(OP_EQ_QBRANCH, 0, 0) \
  X(OP_GT_QBRANCH, 0, 0) X(OP_DUP_QBRANCH, 0, 0) X(OP_OVER_FETCH, 0, 0) \
  X(OP_I_FETCH, 0, 0) X(OP_I_CFETCH, 0, 0) X(OP_LIT_I_CSTORE, 0, 0) \
  X(OP_I_2FETCH, 0, 0) X(OP_LIT_ADD_FETCH, 0, 0) X(OP_FETCH_ADD, 0, 0) \
  X(OP_CALL_EXIT, 0, 0) X(OP_RFROM_ADD, 0, 0) X(OP_SWAP_TOR, 0, 0) \
  X(OP_LIT_FETCH, 0, 0) X(OP_LIT_STORE, 0, 0) X(OP_I_2STORE, 0, 0) \
  X(OP_LIT_PLOOP, 0, 0) X(OP_DUP_PLOOP, 0, 0) X(OP_LIT_LT_QBRANCH, 0, 0) \
  X(OP_I_CFETCH_QBRANCH, 0, 0) X(OP_I_ADD, 0, 0) \
  X(OP_LOCALS, 0, 0) X(OP_UNLOCALS, 0, 0) X(OP_LOCAL_FETCH, 0, 0) \
  X(OP_LOCAL_STORE, 0, 0) X(OP_LOCAL0, 0, 0) X(OP_LOCAL1, 0, 0) \
  X(OP_FLIT, 0, 0) X(OP_FLITFETCH, 0, 0) X(OP_FLITSTORE, 0, 0) \
  X(OP_FADD, "F+", 0) X(OP_FSUB, "F-", 0) X(OP_FMUL, "F*", 0) \
  X(OP_FDIV, "F/", 0) X(OP_FNEGATE, "FNEGATE", 0) X(OP_FABS, "FABS", 0) \
  X(OP_FDUP, "FDUP", 0) X(OP_FDROP, "FDROP", 0) X(OP_FSWAP, "FSWAP", 0) \
  X(OP_FOVER, "FOVER", 0) X(OP_FROT, "FROT", 0) X(OP_FFETCH, "F@", 0) \
  X(OP_FSTORE, "F!", 0) X(OP_FLT, "F<", 0) X(OP_FZLT, "F0<", 0) \
  X(OP_FZEQ, "F0=", 0) X(OP_FEQ, "F=", 0) X(OP_STOF, "S>F", 0) \
  X(OP_FTOS, "F>S", 0) X(OP_FMAX, "FMAX", 0) X(OP_FMIN, "FMIN", 0) \
  X(OP_FLOATS, "FLOATS", 0) X(OP_FLOATPLUS, "FLOAT+", 0) \
  X(OP_FSQRT, "FSQRT", 0) X(OP_FGT, "F>", 0)

enum {
#define X(e, n, f) e,
  FORTH_OPS(X)
#undef X
  OP_COUNT
};

/* vm.c */
extern const void *const *forth_op_addr; /* label of each opcode */
int vm_op_of(const void *label);         /* opcode of a label, or -1 */
int vm_operands(int op);                 /* inline operand cells */
void vm_init_labels(void);
int vm_sm_rem(dcell d, cell n, cell *rem, cell *quo); /* vm_aux.c */
int vm_fm_mod(dcell d, cell n, cell *rem, cell *quo);

/* dspace.c: data space. vm_ptr gives len bytes to write (made the
 * VM's own), vm_rptr to read; NULL if not all valid. A later call may
 * move earlier results: when two are needed, get both, then the first
 * again (vm_ptr2). */
void *vm_ptr(forth_vm *vm, cell addr, cell len);
const void *vm_rptr(forth_vm *vm, cell addr, cell len);
uint8_t *vm_access(forth_vm *vm, ucell addr, ucell len, int write);
void vm_ptr2(forth_vm *vm, cell a1, cell n1, int w1, cell a2, cell n2, int w2,
             uint8_t **p1, uint8_t **p2);
int dspace_init(forth_vm *vm, size_t dict, size_t heap);
int dspace_freeze(forth_vm *vm);
int dspace_share(forth_vm *from, forth_vm *to);
void dspace_free(forth_vm *vm);
void dspace_flush(forth_vm *vm);
void dspace_usage(forth_vm *vm, size_t *own, size_t *shared);
void *vm_seg_alloc(forth_vm *vm, size_t bytes); /* untracked, refs 1 */
void vm_seg_ref(void *seg, long n);
long vm_seg_refs(const void *seg);
size_t vm_seg_bytes(const void *seg);

/* core.c: words, code space, input */
int vm_push(forth_vm *vm, cell x);
int vm_pop(forth_vm *vm, cell *x);
cell vm_get(forth_vm *vm, cell addr);     /* trusted address */
void vm_set(forth_vm *vm, cell addr, cell x);
int vm_emit_code(forth_vm *vm, fcode x);
int vm_compile_op(forth_vm *vm, int op);
int vm_compile_op1(forth_vm *vm, int op, fcode a);
int vm_compile_xt(forth_vm *vm, cell xt);
int vm_mark_label(forth_vm *vm);
int vm_word_new(forth_vm *vm, const char *name, size_t len, int kind,
                uint32_t *out);
int vm_code_reserve(forth_vm *vm, size_t n);
uint32_t vm_find(forth_vm *vm, const char *name, size_t len);
uint32_t vm_find_wl(forth_vm *vm, const char *name, size_t len, unsigned wl);
int vm_valid_xt(forth_vm *vm, cell xt);
void vm_type(forth_vm *vm, const char *s, size_t n);
void vm_note_error(forth_vm *vm, cell code);
void vm_reset_sources(forth_vm *vm, int depth);
int vm_does(forth_vm *vm, const fcode *target);
int vm_install_core(forth_vm *vm);
fcode *vm_snippet(forth_vm *vm, size_t n);
int vm_parse_name(forth_vm *vm, cell *a, cell *n);
int vm_refill(forth_vm *vm, int *flag);
int vm_install_words(forth_vm *vm);
int vm_install_tools(forth_vm *vm);
int vm_define_host(forth_vm *vm, const char *name, forth_hostfn fn,
                   void *ctx, int flags);
int vm_define_host_n(forth_vm *vm, const char *name, size_t len,
                     forth_hostfn fn, void *ctx, int flags);
cell vm_allot(forth_vm *vm, cell n, int *err);
const char *vm_word_name(forth_vm *vm, uint32_t w, size_t *len);
uint32_t vm_word_of_code(forth_vm *vm, const fcode *code);

/* heap.c */
int fheap_init(forth_vm *vm);
int fheap_grow_table(forth_vm *vm, int need);
cell fheap_alloc(forth_vm *vm, ucell n);
int fheap_free(forth_vm *vm, cell addr);
cell fheap_resize(forth_vm *vm, cell addr, ucell n, int *err);

/* ledit.c */
int ledit_key(forth_vm *vm, uint8_t *buf, int cap, int c, cell *n);
int vm_grow_catches(forth_vm *vm); /* 0 or -53 */
void ledit_reset(forth_vm *vm);

/* prelude.c (generated from prelude.fs) */
extern const char forth_prelude[];

/* Host word prototypes share one table shape. */
struct prim_def { const char *name; forth_hostfn fn; int flags; };
int vm_install_table(forth_vm *vm, const struct prim_def *t, size_t n);
void *vm_seg_new(forth_vm *vm, size_t bytes);
int vm_seg_share(forth_vm *to, void *seg);
void vm_seg_release(void *seg);
int vm_alloc_stacks(forth_vm *vm);
int vm_install_strings(forth_vm *vm);
int vm_install_search(forth_vm *vm);
int vm_install_substitute(forth_vm *vm);
int vm_install_facility(forth_vm *vm);
int vm_install_file(forth_vm *vm);
int vm_block(forth_vm *vm, cell u, int read, cell *addr);
int vm_marker_save(forth_vm *vm, cell *rec); /* search.c: order for MARKER */
void vm_marker_restore(forth_vm *vm, cell rec);
int vm_need(forth_vm *vm, int n);
int vm_string(forth_vm *vm, const uint8_t **p, cell *n);

/* locals.c */
int vm_install_locals(forth_vm *vm);
int vm_local_find(forth_vm *vm, const char *name, size_t len); /* -1: none */
int vm_locals_end(forth_vm *vm);   /* UNLOCALS before EXIT/; */
/* float.c */
int vm_install_float(forth_vm *vm);
int vm_float_number(forth_vm *vm, const char *s, size_t n); /* 1 done */
int vm_float_to(forth_vm *vm, cell body, int compiling);     /* TO fvalue */
int vm_fpush(forth_vm *vm, double x);
int vm_fpop(forth_vm *vm, double *x);
void vm_see_float(forth_vm *vm, double x);
/* fmath.c: double-precision math without libm (freestanding kernel) */
double fm_sqrt(double x);
double fm_exp(double x);
double fm_expm1(double x);
double fm_log(double x);
double fm_log1p(double x);
double fm_sin(double x);
double fm_cos(double x);
double fm_tan(double x);
double fm_atan(double x);
double fm_atan2(double y, double x);
double fm_asin(double x);
double fm_acos(double x);
double fm_pow(double x, double y);
double fm_floor(double x);
double fm_trunc(double x);
double fm_round(double x);
double fm_sinh(double x);
double fm_cosh(double x);
double fm_tanh(double x);
double fm_asinh(double x);
double fm_acosh(double x);
double fm_atanh(double x);
double fm_ldexp(double x, int e);
/* fnum.c: exact conversions between doubles and decimal text */
int fn_represent(double x, char *digits, int u, int *exp10); /* 1 rounded ok */
int fn_parse(const char *s, size_t n, double *out);          /* 1 if valid */
double fn_from_int(int neg, uint64_t hi, uint64_t lo);     /* correctly rounded */
#define FLIT_CELLS ((int)(sizeof(double) / sizeof(fcode)))

/* Convenience for C words: pop/push with THROW codes. */
#define POP(x) do { cell _v; int _r = vm_pop(vm, &_v); if (_r) return _r; (x) = _v; } while (0)
#define PUSH(x) do { int _r = vm_push(vm, (cell)(x)); if (_r) return _r; } while (0)

#endif
