/*
 * forth.h: mneme's Forth virtual machine, as a library.
 *
 * A VM is one struct holding everything (stacks, dictionary, data space,
 * input sources), so a process or the kernel can run many of them. The VM
 * does no I/O itself: the embedder passes callbacks for output, terminal
 * input, files (for INCLUDED), time (MS) and memory. It never blocks:
 * forth_run() executes at most about `fuel` threaded instructions and
 * returns FORTH_YIELD, or FORTH_WAIT when a word must wait (KEY with no
 * input, MS before its deadline); calling forth_run() again resumes it.
 *
 * Interface:
 *   forth_create / forth_destroy     make and free a VM
 *   forth_run                        run a slice of at most `fuel` steps
 *   forth_interrupt                  THROW -28 into the running word
 *   forth_define                     add a host word (C callback)
 *   forth_spawn                      a child VM sharing the dictionary
 *   forth_find, forth_host_ctx       execution tokens, host context
 *   forth_push / forth_pop / forth_peek / forth_depth / forth_mem
 *                                    for host words
 *   forth_wait_deadline              when a waiting MS ends
 *   forth_fuel_used, forth_errors    accounting (TASKS, exit status)
 *   forth_throw_text                 standard meaning of a THROW code
 *
 * Cells are FORTH_CELL_BITS wide (default: the pointer width); build with
 * -DFORTH_CELL_BITS=32 for 32-bit cells. Every memory access from Forth is
 * checked against the VM's own data space; errors become THROW codes.
 */
#ifndef MNEME_FORTH_H
#define MNEME_FORTH_H

#include <stddef.h>
#include <stdint.h>

#ifndef FORTH_CELL_BITS
#if UINTPTR_MAX > 0xffffffffu
#define FORTH_CELL_BITS 64
#else
#define FORTH_CELL_BITS 32
#endif
#endif
#if FORTH_CELL_BITS == 32
typedef int32_t forth_cell;
typedef uint32_t forth_ucell;
#else
typedef int64_t forth_cell;
typedef uint64_t forth_ucell;
#endif

typedef struct forth_vm forth_vm;
struct forth_files;

/* forth_run results (and host word results, for FORTH_WAIT). */
enum forth_status {
  FORTH_DONE = 0,  /* BYE or end of terminal input */
  FORTH_YIELD = 1, /* fuel ran out; call forth_run again */
  FORTH_WAIT = 2,  /* a word waits (input, time); call again later */
  FORTH_AGAIN = 3, /* host word only: yield now and run me again (a long
                      job done in slices); forth_run returns FORTH_YIELD */
};

/* Results of the key callback besides a byte 0..255. */
#define FORTH_KEY_EOF (-1)
#define FORTH_KEY_WAIT (-2)

/* mneme-specific THROW codes (the standard reserves -4095..-256). */
#define FORTH_E_UTF8 (-256)     /* input is not valid UTF-8 */
#define FORTH_E_LINE (-257)     /* input line too long */
#define FORTH_E_DEFER (-258)    /* deferred word not set */
/* -300 .. -303 are the kernel words' codes (mneme/forth_task.h);
 * forth_throw_text knows their text too. */

/*
 * The embedder's side. Every callback may be NULL except alloc:
 * no write discards output, no key means end of input, no files means
 * INCLUDED throws -38, no now_ms means MS returns at once.
 */
struct forth_host {
  void *ctx;
  /* Lua-style allocator: new_size 0 frees (returns NULL); else returns
   * a block of new_size bytes (contents of old kept) or NULL. */
  void *(*alloc)(void *ctx, void *old, size_t old_size, size_t new_size);
  /* Output bytes (TYPE, EMIT, messages). Must take all of them. */
  void (*write)(void *ctx, const char *buf, size_t len);
  /* Next terminal input byte, FORTH_KEY_EOF or FORTH_KEY_WAIT. */
  int (*key)(void *ctx);
  /* Nonzero if key has a byte ready now (KEY?); NULL: KEY? is false. */
  int (*key_ready)(void *ctx);
  /* Files for INCLUDED: open returns a handle > 0 (the fileid Forth
   * sees, e.g. in SOURCE-ID) or a negative THROW code; read returns bytes
   * read (0 at end) or a negative THROW code. */
  int (*open)(void *ctx, const char *name, size_t len);
  long (*read)(void *ctx, int handle, char *buf, size_t cap);
  void (*close)(void *ctx, int handle);
  /* Monotonic milliseconds, for MS. */
  uint64_t (*now_ms)(void *ctx);
  /* Wall clock, seconds since 1970-01-01 UTC, for TIME&DATE. NULL: the
   * time since boot from now_ms counts from 1970-01-01 00:00:00. */
  int64_t (*epoch_s)(void *ctx);
  /* The rest of File-Access and the Block word set; NULL: those words
   * THROW -21 (unsupported operation). */
  const struct forth_files *files;
};

/* File access modes (R/O W/O R/W BIN) as passed to forth_files.open. */
#define FORTH_FAM_READ 1
#define FORTH_FAM_WRITE 2
#define FORTH_FAM_BIN 4

/*
 * File-Access and Block for an embedder. Handles are those of
 * forth_host.open/read/close (READ-FILE uses read, CLOSE-FILE close).
 * Every function returns 0 or a negative ior (a THROW code or the
 * embedder's own error number, which Forth shows as the ior). Any may be
 * NULL: the word using it then returns ior -21.
 */
struct forth_files {
  /* OPEN-FILE (create 0) / CREATE-FILE (create 1: make or truncate):
   * a handle > 0 or a negative ior. */
  int (*open)(void *ctx, const char *name, size_t len, int fam, int create);
  int (*write)(void *ctx, int handle, const char *buf, size_t len);
  int (*seek)(void *ctx, int handle, uint64_t pos);
  int (*tell)(void *ctx, int handle, uint64_t *pos);
  int (*size)(void *ctx, int handle, uint64_t *size);
  int (*resize)(void *ctx, int handle, uint64_t size);
  int (*flush)(void *ctx, int handle);
  int (*remove)(void *ctx, const char *name, size_t len);
  int (*rename)(void *ctx, const char *from, size_t flen, const char *to,
                size_t tlen);
  /* FILE-STATUS: *x is implementation-defined information (mode bits). */
  int (*status)(void *ctx, const char *name, size_t len, forth_cell *x);
  /* Block n (from 0) of the blocks file `name`, 1024 bytes: read it
   * (write 0; past the end of the file reads spaces) or write it. */
  int (*block)(void *ctx, const char *name, size_t len, int write,
               uint64_t n, void *buf);
};

/* Sizes; zero fields take defaults. */
struct forth_config {
  size_t data_bytes;    /* dictionary data space (default 1 MiB) */
  size_t heap_bytes;    /* ALLOCATE heap (default 256 KiB) */
  size_t code_cells;    /* code space limit in cells (default 1 Mi) */
  size_t code_chunk_cells; /* code allocated at a time (default 4096) */
  unsigned stack_cells; /* data stack (default 1024) */
  unsigned rstack_cells;/* return stack (default 1024) */
  unsigned calls;       /* nesting depth of calls (default 4096) */
  unsigned locals_cells;/* locals stack (default 256) */
  unsigned fstack_cells;/* floating-point stack, in floats (default 64) */
  int interactive;      /* print " ok" prompts */
  int line_edit;        /* terminal input is raw: echo it and edit lines
                           (arrows, backspace, Ctrl-A/E/U, history) */
  int zeroed;           /* alloc returns zero-filled new blocks (saves a
                           memset of data space at creation) */
};

/* Host word: return 0, FORTH_WAIT (nothing consumed; the word runs again
 * when resumed) or a negative THROW code. */
typedef int (*forth_hostfn)(forth_vm *vm, void *ctx);

/* Makes a VM that will run QUIT on the terminal input.
 * Returns 0, MN_ENOMEM or MN_EINVAL (no allocator). */
int forth_create(forth_vm **out, const struct forth_host *host,
                 const struct forth_config *cfg);
void forth_destroy(forth_vm *vm);

/* Runs up to about `fuel` steps. Returns a forth_status, MN_EINVAL when
 * the VM already finished, or the negative THROW code of an exception no
 * CATCH handled (cannot happen under QUIT, which catches everything). */
int forth_run(forth_vm *vm, long fuel);

/* Makes the running (or next) word THROW -28. Safe from a signal handler. */
void forth_interrupt(forth_vm *vm);

/* Adds a word calling fn(vm, ctx). Returns 0, MN_ENOMEM or MN_EINVAL. */
int forth_define(forth_vm *vm, const char *name, forth_hostfn fn, void *ctx);

/* The execution token of the word called name (any case), or 0. */
forth_cell forth_find(forth_vm *vm, const char *name);

/*
 * SPAWN: makes *child, a new VM that runs xt (then ends; an uncaught error
 * is reported on its output). It shares the parent's dictionary: the
 * parent's word headers and code are frozen and shared by reference, and
 * later definitions in either go to new segments of their own. The child
 * gets a copy of the parent's data space (variables, heap), so stores in
 * either are private. host is the child's side (its own I/O); its
 * allocator must be able to free the parent's blocks (same allocator).
 * Returns 0, MN_EINVAL (bad xt or host), MN_EBUSY (parent is compiling)
 * or MN_ENOMEM.
 */
int forth_spawn(forth_vm *parent, forth_cell xt, const struct forth_host *host,
                forth_vm **child);

/* forth_spawn with the child's own sizes and flags from cfg (stacks,
 * code chunk, interactive, line_edit; zero fields: the parent's). Data
 * space sizes are always the parent's. */
int forth_spawn_sized(forth_vm *parent, forth_cell xt,
                      const struct forth_host *host,
                      const struct forth_config *cfg, forth_vm **child);

/* Kernel heap a VM holds: *own bytes only it uses (its struct, stacks,
 * tables, pages and code of its own) and *shared bytes of segments it
 * shares with others (the frozen dictionary, pages not yet copied). */
void forth_memory(forth_vm *vm, size_t *own, size_t *shared);

/* The ctx of the VM's forth_host (for host words). */
void *forth_host_ctx(const forth_vm *vm);

/* Data stack for host words: 0 or -4 (underflow) / -3 (overflow). */
int forth_push(forth_vm *vm, forth_cell x);
int forth_pop(forth_vm *vm, forth_cell *x);
int forth_depth(const forth_vm *vm);
/* Item i (0 = top) without popping; 0 or -4. */
int forth_peek(const forth_vm *vm, int i, forth_cell *x);

/* Host pointer to len bytes of VM memory at addr, or NULL if not all of
 * them are the VM's. */
void *forth_mem(forth_vm *vm, forth_cell addr, size_t len);

/* Monotonic ms deadline of a waiting MS, or 0. */
uint64_t forth_wait_deadline(const forth_vm *vm);

/* Fuel (threaded steps) the VM has used so far, for TASKS. */
unsigned long forth_fuel_used(const forth_vm *vm);

/* Number of uncaught errors reported so far. */
unsigned long forth_errors(const forth_vm *vm);

/* Standard meaning of a THROW code ("" if none). */
const char *forth_throw_text(int code);
/* Text for THROW codes the VM does not know (fn returns NULL if it does
 * not know either); the kernel words use it for FT_E_MN codes. */
void forth_set_throw_text(const char *(*fn)(int code));

#endif
