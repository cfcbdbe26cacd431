/*
 * spawn.c: forth_spawn, a child VM that shares its parent's dictionary.
 *
 * Word headers, names and threaded code live in refcounted segments that
 * never move (core.c). Spawning freezes the parent: the rest of its last
 * header segment is filled with hidden placeholders, and both VMs start
 * new segments for whatever they define later, so a frozen segment is
 * never written again and can be shared by reference. DOES>, IMMEDIATE
 * and MARKER refuse to touch frozen words. Data space is copied (the
 * child's stores are private, as with copy-on-write, without a page table
 * in the hot access path).
 *
 * Interface:
 *   forth_spawn, forth_find, forth_host_ctx
 */
#include "forth_int.h"
#include <mneme/err.h>

static void freeze(forth_vm *p)
{
  uint32_t end = (p->nwords + WSEG - 1) / WSEG * WSEG;
  for (uint32_t i = p->nwords; i < end; i++) {
    struct fword *w = WORD(p, i);
    memset(w, 0, sizeof *w);
    w->name = "";
    w->flags = WF_HIDDEN;
    w->kind = WK_COLON;
    w->code = p->undef_code;
  }
  p->nwords = p->frozen_words = end;
  p->ncap = p->nfill;    /* next name: new chunk */
  p->cp = p->cp_end = NULL; /* next code: new chunk */
  p->last_op = p->prev_op = NULL;
}

static void *xalloc(forth_vm *vm, size_t n)
{
  return vm->host.alloc(vm->host.ctx, NULL, 0, n);
}

/* Shares the parent's data space pages; copies its heap table and
 * segment references. */
static int share(forth_vm *p, forth_vm *c)
{
  c->maxblocks = p->maxblocks;
  c->wseg = xalloc(c, p->nwseg * sizeof *c->wseg);
  if (fheap_grow_table(c, p->nblocks) || !c->wseg || dspace_share(p, c))
    return MN_ENOMEM;
  c->capwseg = p->nwseg;
  memcpy(c->blocks, p->blocks, (size_t)p->nblocks * sizeof *c->blocks);
  c->nblocks = p->nblocks;
  memcpy(c->wseg, p->wseg, p->nwseg * sizeof *c->wseg);
  c->nwseg = p->nwseg;
  c->segs = xalloc(c, (p->nsegs + 8) * sizeof *c->segs); /* room for a few */
  if (!c->segs)
    return MN_ENOMEM;
  c->capsegs = p->nsegs + 8;
  for (size_t i = 0; i < p->nsegs; i++)
    if (vm_seg_share(c, p->segs[i]))
      return MN_ENOMEM;
  return 0;
}

static void copy_fields(forth_vm *p, forth_vm *c)
{
  c->cfg = p->cfg;
  c->code_cells_max = p->code_cells_max;
  c->nchunks = p->nchunks;
  c->code_cells_used = p->code_cells_used;
  c->base = p->base;
  c->here = p->here;
  c->dict_end = p->dict_end;
  c->heap_lo = p->heap_lo;
  c->heap_hi = p->heap_hi;
  c->a_state = p->a_state;
  c->a_base = p->a_base;
  c->a_in = p->a_in;
  c->a_tib = p->a_tib;
  c->a_pad = p->a_pad;
  c->a_hold = p->a_hold;
  c->a_word = p->a_word;
  c->a_sbuf = p->a_sbuf;
  c->a_blk = p->a_blk;
  c->a_scr = p->a_scr;
  c->dict_start = p->dict_start;
  c->nwords = c->frozen_words = p->nwords;
  c->latest = p->latest;
  c->halt_code = p->halt_code;
  c->quit_code = p->quit_code;
  c->undef_code = p->undef_code;
  memcpy(c->order, p->order, sizeof c->order);
  c->norder = p->norder;
  c->current = p->current;
  c->nwl = p->nwl;
  c->fence = p->fence;
  c->subst = p->subst;
  c->precision = p->precision;
  memcpy(c->nbuf, p->nbuf, sizeof c->nbuf);
}

/* The child's first code: xt CATCH ?DUP IF (report) THEN BYE */
static int boot_code(forth_vm *c, cell xt)
{
  uint32_t rep = vm_find_wl(c, "(report)", 8, FORTH_WID);
  if (!rep)
    return MN_ENOMEM;
  const void *const *L = forth_op_addr;
  fcode *k = c->boot_code, *end;
  k[0] = (fcode)L[OP_LIT]; k[1] = (fcode)xt;
  k[2] = (fcode)L[OP_CATCH];
  k[3] = (fcode)L[OP_DUP_QBRANCH]; end = k + 8; k[4] = (fcode)end;
  k[5] = (fcode)L[OP_CCALL]; k[6] = (fcode)WORD(c, rep)->fn; k[7] = 0;
  k[8] = (fcode)L[OP_HALT];
  c->ip = k;
  c->csp = c->cs0;
  *c->csp = c->halt_code;
  return 0;
}

int forth_spawn(forth_vm *p, forth_cell xt, const struct forth_host *host,
                forth_vm **child)
{
  return forth_spawn_sized(p, xt, host, NULL, child);
}

int forth_spawn_sized(forth_vm *p, forth_cell xt, const struct forth_host *host,
                      const struct forth_config *cfg, forth_vm **child)
{
  int r;
  if (!p || !host || !host->alloc || !child || !vm_valid_xt(p, xt))
    return MN_EINVAL;
  if (p->def_start)
    return MN_EBUSY;
  freeze(p);
  dspace_freeze(p);
  forth_vm *c = host->alloc(host->ctx, NULL, 0, sizeof *c);
  if (!c)
    return MN_ENOMEM;
  memset(c, 0, sizeof *c);
  c->host = *host;
  copy_fields(p, c);
  if (cfg) { /* the child's own stacks and flags; data space is the parent's */
    struct forth_config k = *cfg;
    k.data_bytes = p->cfg.data_bytes;
    k.heap_bytes = p->cfg.heap_bytes;
    k.code_cells = p->cfg.code_cells;
    if (!k.code_chunk_cells) k.code_chunk_cells = p->cfg.code_chunk_cells;
    if (!k.stack_cells) k.stack_cells = p->cfg.stack_cells;
    if (!k.rstack_cells) k.rstack_cells = p->cfg.rstack_cells;
    if (!k.calls) k.calls = p->cfg.calls;
    if (!k.locals_cells) k.locals_cells = p->cfg.locals_cells;
    if (!k.fstack_cells) k.fstack_cells = p->cfg.fstack_cells;
    c->cfg = k;
  }
  if ((r = vm_alloc_stacks(c)) || (r = share(p, c)) || (r = boot_code(c, xt))) {
    forth_destroy(c);
    return MN_ENOMEM;
  }
  c->nsrc = 1;
  c->src[0].kind = SRC_TERM;
  c->src[0].name = (char *)"";
  c->src[0].handle = -1;
  c->src[0].buf = c->a_tib;
  vm_set(c, c->a_state, 0);
  vm_set(c, c->a_in, 0);
  *child = c;
  return 0;
}

forth_cell forth_find(forth_vm *vm, const char *name)
{
  if (!vm || !name)
    return 0;
  uint32_t w = vm_find(vm, name, strlen(name));
  return (forth_cell)(w ? w : vm_find_wl(vm, name, strlen(name), FORTH_WID));
}

void *forth_host_ctx(const forth_vm *vm)
{
  return vm->host.ctx;
}
