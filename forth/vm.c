/*
 * vm.c: the inner interpreter of mneme's Forth (direct threaded code with
 * computed goto, top of stack cached in a register).
 *
 * Threaded code is an array of fcode cells: the label address of an
 * opcode followed by its inline operands. Hot words are opcodes here;
 * everything else is a C function called through OP_CCALL. The compiler
 * (core.c) fuses common sequences into one opcode (OP_LIT_ADD, ...).
 *
 * Safety: data-space accesses are checked against [base, base+size);
 * stack depths are checked at checkpoints (see forth_int.h); fuel is
 * spent at calls, branches and loop ends, so every loop and recursion
 * runs out of fuel and yields. This function is the one long function
 * of the VM, on purpose.
 *
 * Interface:
 *   forth_run        run a slice
 *   vm_init_labels   fill forth_op_addr
 *
 * The opcodes of the optional word sets (locals, floating point) are in
 * vm_ext.inc, included in the middle of forth_run; vm_aux.c has the
 * opcode table helpers and the division routines.
 */
#include "forth_int.h"
#include <mneme/err.h>

const void *const *forth_op_addr;


#define BITS ((int)(8 * sizeof(cell)))
#define MAXF_CELL ((double)((ucell)1 << (BITS - 1))) /* 2^(BITS-1) */
#define DC(lo, hi) ((dcell)(((udcell)(ucell)(hi) << BITS) | (ucell)(lo)))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define FLAG(x) ((x) ? (cell)-1 : (cell)0)

void vm_init_labels(void)
{
  if (!forth_op_addr)
    forth_run(NULL, 0);
}

int forth_run(forth_vm *vm, long fuel)
{
  static const void *const labels[] = {
#define X(e, n, f) &&L_##e,
    FORTH_OPS(X)
#undef X
  };
  if (!vm) {
    forth_op_addr = labels;
    return 0;
  }
  if (vm->done)
    return MN_EINVAL;
  dspace_flush(vm);

  const fcode *ip = vm->ip;
  cell *sp = vm->sp;
  cell tos = *sp--;
  cell *rp = vm->rp;
  const fcode **csp = vm->csp;
  uint8_t *pmem = vm->pmem;
  ucell plo = vm->plo, plim = vm->plim;
  cell *const sp_lo = vm->ds0 - 1;
  const ucell sp_span = vm->dsize;
  cell *const rp_lo = vm->rs0;
  const ucell rp_span = vm->rsize;
  const fcode **const cs_max = vm->cs0 + vm->csize - 1;
  const long fuel0 = fuel;
  cell code;
  cell t, u;
  const fcode *target;

#define NEXT goto *(const void *)(*ip++)
#define FUEL do { if (UNLIKELY(--fuel < 0)) goto out_of_fuel; } while (0)
#define CHECKPOINT \
  do { \
    if (UNLIKELY((ucell)(sp - sp_lo) > sp_span || \
                 (ucell)(rp - rp_lo) > rp_span)) \
      goto stack_err; \
  } while (0)
/* Data space: the dictionary window inline (n <= 16), the rest through
 * vm_access (pages shared copy-on-write, the heap window), which may
 * move the window: reload it after. */
#define ADDRW(a, n, w) \
  ({ \
    ucell _a = (ucell)(a), _o = _a - plo; \
    uint8_t *_p; \
    if (LIKELY(_o < plim)) { \
      _p = pmem + _o; \
    } else { \
      _p = vm_access(vm, _a, (n), (w)); \
      RELOAD(); \
      if (UNLIKELY(!_p)) \
        goto bad_addr; \
    } \
    _p; \
  })
#define ADDR(a, n) ADDRW(a, n, 0)
#define WADDR(a, n) ADDRW(a, n, 1)
#define RELOAD() do { pmem = vm->pmem; plo = vm->plo; plim = vm->plim; } while (0)
#define LOADC(p) ({ cell _x; memcpy(&_x, (p), sizeof _x); _x; })
#define STOREC(p, x) do { cell _y = (x); memcpy((p), &_y, sizeof _y); } while (0)
#define PUSHT(x) do { cell _n = (x); *++sp = tos; tos = _n; } while (0)
#define SAVE() do { vm->ip = ip; vm->sp = sp; vm->rp = rp; vm->csp = csp; } while (0)
#define THROW(c) do { code = (c); goto do_throw; } while (0)
#define VALID_XT(x) ((ucell)(x) - 1 < (ucell)vm->nwords - 1)

  if (vm->interrupt) {
    vm->interrupt = 0;
    THROW(-28);
  }
  NEXT;

L_OP_NOOP:
  NEXT;
L_OP_EXIT:
  ip = *csp--;
  NEXT;
L_OP_CALL:
  FUEL;
  CHECKPOINT;
  if (UNLIKELY(csp >= cs_max))
    THROW(-5);
  *++csp = ip + 1;
  ip = (const fcode *)*ip;
  NEXT;
L_OP_CALL_EXIT:
  FUEL;
  CHECKPOINT;
  ip = (const fcode *)*ip;
  NEXT;
L_OP_LIT:
  PUSHT((cell)*ip++);
  NEXT;
L_OP_LIT2:
  PUSHT((cell)ip[0]);
  PUSHT((cell)ip[1]);
  ip += 2;
  NEXT;
L_OP_BRANCH:
  FUEL;
  CHECKPOINT;
  ip = (const fcode *)*ip;
  NEXT;
L_OP_QBRANCH:
  FUEL;
  CHECKPOINT;
  t = tos;
  tos = *sp--;
  ip = t ? ip + 1 : (const fcode *)*ip;
  NEXT;
L_OP_ZEQ_QBRANCH:
  FUEL;
  CHECKPOINT;
  t = tos;
  tos = *sp--;
  ip = !t ? ip + 1 : (const fcode *)*ip;
  NEXT;
L_OP_LT_QBRANCH:
  FUEL;
  CHECKPOINT;
  t = *sp < tos;
  tos = sp[-1];
  sp -= 2;
  ip = t ? ip + 1 : (const fcode *)*ip;
  NEXT;
L_OP_GT_QBRANCH:
  FUEL;
  CHECKPOINT;
  t = *sp > tos;
  tos = sp[-1];
  sp -= 2;
  ip = t ? ip + 1 : (const fcode *)*ip;
  NEXT;
L_OP_EQ_QBRANCH:
  FUEL;
  CHECKPOINT;
  t = *sp == tos;
  tos = sp[-1];
  sp -= 2;
  ip = t ? ip + 1 : (const fcode *)*ip;
  NEXT;
L_OP_LIT_LT_QBRANCH:
  FUEL;
  CHECKPOINT;
  t = tos < (cell)ip[0];
  tos = *sp--;
  ip = t ? ip + 2 : (const fcode *)ip[1];
  NEXT;
L_OP_I_CFETCH_QBRANCH:
  FUEL;
  CHECKPOINT;
  t = *ADDR(rp[0], 1);
  ip = t ? ip + 1 : (const fcode *)*ip;
  NEXT;
L_OP_DUP_QBRANCH:
  FUEL;
  CHECKPOINT;
  ip = tos ? ip + 1 : (const fcode *)*ip;
  NEXT;
L_OP_DO:
  rp += 2;
  rp[-1] = *sp;
  rp[0] = tos;
  tos = sp[-1];
  sp -= 2;
  NEXT;
L_OP_QDO:
  CHECKPOINT;
  if (*sp == tos) {
    tos = sp[-1];
    sp -= 2;
    ip = (const fcode *)*ip;
    NEXT;
  }
  rp += 2;
  rp[-1] = *sp;
  rp[0] = tos;
  tos = sp[-1];
  sp -= 2;
  ip++;
  NEXT;
L_OP_LOOP:
  FUEL;
  CHECKPOINT;
  t = (cell)((ucell)rp[0] + 1);
  if (t != rp[-1]) {
    rp[0] = t;
    ip = (const fcode *)*ip;
  } else {
    rp -= 2;
    ip++;
  }
  NEXT;
L_OP_PLOOP:
  FUEL;
  CHECKPOINT;
  {
    cell d = (cell)((ucell)rp[0] - (ucell)rp[-1]);
    cell nd = (cell)((ucell)d + (ucell)tos);
    if ((d ^ nd) >= 0 || (d ^ tos) >= 0) {
      rp[0] = (cell)((ucell)rp[0] + (ucell)tos);
      ip = (const fcode *)*ip;
    } else {
      rp -= 2;
      ip++;
    }
    tos = *sp--;
  }
  NEXT;
L_OP_LIT_PLOOP:
  FUEL;
  CHECKPOINT;
  {
    cell n = (cell)ip[0];
    cell d = (cell)((ucell)rp[0] - (ucell)rp[-1]);
    cell nd = (cell)((ucell)d + (ucell)n);
    if ((d ^ nd) >= 0 || (d ^ n) >= 0) {
      rp[0] = (cell)((ucell)rp[0] + (ucell)n);
      ip = (const fcode *)ip[1];
    } else {
      rp -= 2;
      ip += 2;
    }
  }
  NEXT;
L_OP_DUP_PLOOP:
  FUEL;
  CHECKPOINT;
  {
    cell d = (cell)((ucell)rp[0] - (ucell)rp[-1]);
    cell nd = (cell)((ucell)d + (ucell)tos);
    if ((d ^ nd) >= 0 || (d ^ tos) >= 0) {
      rp[0] = (cell)((ucell)rp[0] + (ucell)tos);
      ip = (const fcode *)*ip;
    } else {
      rp -= 2;
      ip++;
    }
  }
  NEXT;
L_OP_LEAVE:
  CHECKPOINT;
  rp -= 2;
  ip = (const fcode *)*ip;
  NEXT;
L_OP_UNLOOP:
  rp -= 2;
  NEXT;
L_OP_I:
  PUSHT(rp[0]);
  NEXT;
L_OP_I_ADD:
  tos = (cell)((ucell)tos + (ucell)rp[0]);
  NEXT;
L_OP_J:
  PUSHT(rp[-2]);
  NEXT;
L_OP_CCALL:
  CHECKPOINT;
  {
    forth_hostfn fn = (forth_hostfn)ip[0];
    void *ctx = (void *)ip[1];
    *++sp = tos;
    SAVE();
    int r = fn(vm, ctx);
    if (vm->ngrave)
      dspace_flush(vm);
    RELOAD();
    sp = vm->sp;
    rp = vm->rp;
    csp = vm->csp;
    tos = *sp--;
    if (LIKELY(r == 0)) {
      ip += 2;
      NEXT;
    }
    if (r == FORTH_WAIT || r == FORTH_AGAIN) {
      ip--;
      *++sp = tos;
      SAVE();
      vm->fuel_used += (unsigned long)(fuel0 - fuel);
      return r == FORTH_WAIT ? FORTH_WAIT : FORTH_YIELD;
    }
    ip += 2;
    THROW(r);
  }
L_OP_CHECK:
  CHECKPOINT;
  NEXT;
L_OP_HALT:
  *++sp = tos;
  SAVE();
  vm->done = 1;
  vm->fuel_used += (unsigned long)(fuel0 - fuel);
  return FORTH_DONE;
L_OP_EXECUTE:
  FUEL;
  CHECKPOINT;
  if (UNLIKELY(!VALID_XT(tos)))
    THROW(-13);
  if (UNLIKELY(csp >= cs_max))
    THROW(-5);
  target = WORD(vm, tos)->code;
  tos = *sp--;
  *++csp = ip;
  ip = target;
  NEXT;
L_OP_DEFER:
  FUEL;
  t = LOADC(ADDR(*ip, CELL));
  if (UNLIKELY(!VALID_XT(t)))
    THROW(FORTH_E_DEFER);
  ip = WORD(vm, t)->code;
  NEXT;
L_OP_CATCH:
  FUEL;
  CHECKPOINT;
  if (UNLIKELY(!VALID_XT(tos)))
    THROW(-13);
  if (UNLIKELY(vm->ncatch >= vm->catch_cap) && (code = vm_grow_catches(vm)))
    THROW(code);
  if (UNLIKELY(csp + 1 >= cs_max))
    THROW(-5);
  t = tos;
  {
    struct catchframe *f = &vm->catches[vm->ncatch++];
    *++csp = ip;
    f->sp = sp;
    f->rp = rp;
    f->lp = vm->lp;
    f->fsp = vm->fsp;
    f->csp = csp;
    f->nsrc = vm->nsrc;
    *++csp = vm->halt_code + 1; /* CATCH_END */
  }
  tos = *sp--;
  ip = WORD(vm, t)->code;
  NEXT;
L_OP_CATCH_END:
  vm->ncatch--;
  PUSHT(0);
  ip = *csp--;
  NEXT;
L_OP_THROW:
  t = tos;
  tos = *sp--;
  if (!t)
    NEXT;
  THROW(t);
L_OP_RETHROW:
  t = tos;
  tos = *sp--;
  if (!t)
    NEXT;
  code = t;
  goto do_rethrow;
L_OP_OF:
  CHECKPOINT;
  if (*sp == tos) {
    tos = sp[-1];
    sp -= 2;
    ip++;
  } else {
    tos = *sp--;
    ip = (const fcode *)*ip;
  }
  NEXT;
L_OP_LITFETCH:
  t = LOADC(ADDR(*ip, CELL));
  ip++;
  PUSHT(t);
  NEXT;
L_OP_LITSTORE:
  STOREC(WADDR(*ip, CELL), tos);
  ip++;
  tos = *sp--;
  NEXT;
L_OP_LIT2FETCH:
  {
    uint8_t *p = ADDR(*ip, 2 * CELL);
    ip++;
    PUSHT(LOADC(p + CELL));
    PUSHT(LOADC(p));
  }
  NEXT;
L_OP_LIT2STORE:
  {
    uint8_t *p = WADDR(*ip, 2 * CELL);
    ip++;
    STOREC(p, tos);
    STOREC(p + CELL, *sp);
    tos = sp[-1];
    sp -= 2;
  }
  NEXT;
L_OP_DOES:
  t = vm_does(vm, (const fcode *)*ip++);
  if (t)
    THROW(t);
  NEXT;
L_OP_ABORTQ:
  t = tos;
  tos = *sp--;
  if (t) {
    vm->abort_msg = (cell)ip[0];
    vm->abort_len = (cell)ip[1];
    ip += 2;
    THROW(-2);
  }
  ip += 2;
  NEXT;

  /* stack */
L_OP_DUP:
  *++sp = tos;
  NEXT;
L_OP_DROP:
  tos = *sp--;
  NEXT;
L_OP_SWAP:
  t = *sp;
  *sp = tos;
  tos = t;
  NEXT;
L_OP_OVER:
  PUSHT(sp[0]);
  NEXT;
L_OP_OVER_FETCH:
  PUSHT(LOADC(ADDR(sp[0], CELL)));
  NEXT;
L_OP_ROT:
  t = sp[-1];
  sp[-1] = sp[0];
  sp[0] = tos;
  tos = t;
  NEXT;
L_OP_MROT:
  t = sp[0];
  sp[0] = sp[-1];
  sp[-1] = tos;
  tos = t;
  NEXT;
L_OP_NIP:
  sp--;
  NEXT;
L_OP_TUCK:
  t = sp[0];
  sp[0] = tos;
  *++sp = t;
  NEXT;
L_OP_QDUP:
  if (tos)
    *++sp = tos;
  NEXT;
L_OP_2DUP:
  sp[1] = tos;
  sp[2] = sp[0];
  sp += 2;
  NEXT;
L_OP_2DROP:
  tos = sp[-1];
  sp -= 2;
  NEXT;
L_OP_2SWAP:
  t = sp[0];
  u = sp[-1];
  sp[0] = sp[-2];
  sp[-1] = tos;
  sp[-2] = t;
  tos = u;
  NEXT;
L_OP_2OVER:
  sp[1] = tos;
  sp[2] = sp[-2];
  tos = sp[-1];
  sp += 2;
  NEXT;
L_OP_TOR:
  *++rp = tos;
  tos = *sp--;
  NEXT;
L_OP_SWAP_TOR:
  *++rp = *sp--;
  NEXT;
L_OP_RFROM:
  PUSHT(*rp--);
  NEXT;
L_OP_RFROM_ADD:
  tos = (cell)((ucell)tos + (ucell)*rp--);
  NEXT;
L_OP_RFETCH:
  PUSHT(*rp);
  NEXT;
L_OP_2TOR:
  rp[1] = *sp;
  rp[2] = tos;
  rp += 2;
  tos = sp[-1];
  sp -= 2;
  NEXT;
L_OP_2RFROM:
  sp[1] = tos;
  sp[2] = rp[-1];
  tos = rp[0];
  sp += 2;
  rp -= 2;
  NEXT;
L_OP_2RFETCH:
  sp[1] = tos;
  sp[2] = rp[-1];
  tos = rp[0];
  sp += 2;
  NEXT;

  /* arithmetic */
L_OP_ADD:
  tos = (cell)((ucell)*sp-- + (ucell)tos);
  NEXT;
L_OP_LIT_ADD:
  tos = (cell)((ucell)tos + (ucell)*ip++);
  NEXT;
L_OP_SUB:
  tos = (cell)((ucell)*sp-- - (ucell)tos);
  NEXT;
L_OP_LIT_SUB:
  tos = (cell)((ucell)tos - (ucell)*ip++);
  NEXT;
L_OP_MUL:
  tos = (cell)((ucell)*sp-- * (ucell)tos);
  NEXT;
L_OP_LIT_MUL:
  tos = (cell)((ucell)tos * (ucell)*ip++);
  NEXT;
L_OP_DIV:
  if (UNLIKELY(!tos))
    THROW(-10);
  tos = tos == -1 ? (cell)(0 - (ucell)*sp) : *sp / tos;
  sp--;
  NEXT;
L_OP_MOD:
  if (UNLIKELY(!tos))
    THROW(-10);
  tos = tos == -1 ? 0 : *sp % tos;
  sp--;
  NEXT;
L_OP_DIVMOD:
  if (UNLIKELY(!tos))
    THROW(-10);
  if (tos == -1) {
    *sp = (cell)(0 - (ucell)*sp);
    tos = *sp;
    *sp = 0;
  } else {
    t = *sp;
    *sp = t % tos;
    tos = t / tos;
  }
  NEXT;
L_OP_NEGATE:
  tos = (cell)(0 - (ucell)tos);
  NEXT;
L_OP_ABS:
  tos = tos < 0 ? (cell)(0 - (ucell)tos) : tos;
  NEXT;
L_OP_MIN:
  t = *sp--;
  tos = t < tos ? t : tos;
  NEXT;
L_OP_MAX:
  t = *sp--;
  tos = t > tos ? t : tos;
  NEXT;
L_OP_AND:
  tos &= *sp--;
  NEXT;
L_OP_LIT_AND:
  tos &= (cell)*ip++;
  NEXT;
L_OP_OR:
  tos |= *sp--;
  NEXT;
L_OP_XOR:
  tos ^= *sp--;
  NEXT;
L_OP_INVERT:
  tos = ~tos;
  NEXT;
L_OP_LSHIFT:
  tos = (ucell)tos >= (ucell)BITS ? 0 : (cell)((ucell)*sp << tos);
  sp--;
  NEXT;
L_OP_RSHIFT:
  tos = (ucell)tos >= (ucell)BITS ? 0 : (cell)((ucell)*sp >> tos);
  sp--;
  NEXT;
L_OP_2STAR:
  tos = (cell)((ucell)tos << 1);
  NEXT;
L_OP_2SLASH:
  tos = tos >> 1;
  NEXT;
L_OP_1PLUS:
  tos = (cell)((ucell)tos + 1);
  NEXT;
L_OP_1MINUS:
  tos = (cell)((ucell)tos - 1);
  NEXT;
L_OP_CELLPLUS:
  tos = (cell)((ucell)tos + sizeof(cell));
  NEXT;
L_OP_CELLS:
  tos = (cell)((ucell)tos * sizeof(cell));
  NEXT;
L_OP_CHARPLUS:
  tos = (cell)((ucell)tos + 1);
  NEXT;
L_OP_EQ:
  tos = FLAG(*sp-- == tos);
  NEXT;
L_OP_LIT_EQ:
  tos = FLAG(tos == (cell)*ip++);
  NEXT;
L_OP_NE:
  tos = FLAG(*sp-- != tos);
  NEXT;
L_OP_LT:
  tos = FLAG(*sp-- < tos);
  NEXT;
L_OP_LIT_LT:
  tos = FLAG(tos < (cell)*ip++);
  NEXT;
L_OP_GT:
  tos = FLAG(*sp-- > tos);
  NEXT;
L_OP_ULT:
  tos = FLAG((ucell)*sp-- < (ucell)tos);
  NEXT;
L_OP_UGT:
  tos = FLAG((ucell)*sp-- > (ucell)tos);
  NEXT;
L_OP_ZEQ:
  tos = FLAG(tos == 0);
  NEXT;
L_OP_ZNE:
  tos = FLAG(tos != 0);
  NEXT;
L_OP_ZLT:
  tos = FLAG(tos < 0);
  NEXT;
L_OP_ZGT:
  tos = FLAG(tos > 0);
  NEXT;
L_OP_WITHIN:
  tos = FLAG((ucell)sp[-1] - (ucell)sp[0] < (ucell)tos - (ucell)sp[0]);
  sp -= 2;
  NEXT;

  /* memory */
L_OP_FETCH:
  tos = LOADC(ADDR(tos, CELL));
  NEXT;
L_OP_FETCH_ADD:
  t = LOADC(ADDR(tos, CELL));
  tos = (cell)((ucell)*sp-- + (ucell)t);
  NEXT;
L_OP_LIT_ADD_FETCH:
  tos = LOADC(ADDR((ucell)tos + (ucell)*ip++, CELL));
  NEXT;
L_OP_I_FETCH:
  PUSHT(LOADC(ADDR(rp[0], CELL)));
  NEXT;
L_OP_I_2FETCH:
  {
    uint8_t *p = ADDR(rp[0], 2 * CELL);
    sp[1] = tos;
    sp[2] = LOADC(p + CELL);
    tos = LOADC(p);
    sp += 2;
  }
  NEXT;
L_OP_I_CFETCH:
  PUSHT(*ADDR(rp[0], 1));
  NEXT;
L_OP_LIT_I_CSTORE:
  *WADDR(rp[0], 1) = (uint8_t)*ip++;
  NEXT;
L_OP_LIT_FETCH:
  PUSHT(LOADC(ADDR(*ip, CELL)));
  ip++;
  NEXT;
L_OP_LIT_STORE:
  STOREC(WADDR(*ip, CELL), tos);
  ip++;
  tos = *sp--;
  NEXT;
L_OP_I_2STORE:
  {
    uint8_t *p = WADDR(rp[0], 2 * CELL);
    STOREC(p, tos);
    STOREC(p + CELL, sp[0]);
    tos = sp[-1];
    sp -= 2;
  }
  NEXT;
L_OP_STORE:
  STOREC(WADDR(tos, CELL), *sp);
  tos = sp[-1];
  sp -= 2;
  NEXT;
L_OP_CFETCH:
  tos = *ADDR(tos, 1);
  NEXT;
L_OP_CSTORE:
  *WADDR(tos, 1) = (uint8_t)*sp;
  tos = sp[-1];
  sp -= 2;
  NEXT;
L_OP_PSTORE:
  {
    uint8_t *p = WADDR(tos, CELL);
    STOREC(p, (cell)((ucell)LOADC(p) + (ucell)*sp));
    tos = sp[-1];
    sp -= 2;
  }
  NEXT;
L_OP_2FETCH:
  {
    uint8_t *p = ADDR(tos, 2 * CELL);
    *++sp = LOADC(p + CELL);
    tos = LOADC(p);
  }
  NEXT;
L_OP_2STORE:
  {
    uint8_t *p = WADDR(tos, 2 * CELL);
    STOREC(p, sp[0]);
    STOREC(p + CELL, sp[-1]);
    tos = sp[-2];
    sp -= 3;
  }
  NEXT;

  /* mixed and double */
L_OP_UMSTAR:
  {
    udcell p = (udcell)(ucell)*sp * (ucell)tos;
    *sp = (cell)(ucell)p;
    tos = (cell)(ucell)(p >> BITS);
  }
  NEXT;
L_OP_MSTAR:
  {
    dcell p = (dcell)*sp * tos;
    *sp = (cell)(ucell)(udcell)p;
    tos = (cell)(ucell)((udcell)p >> BITS);
  }
  NEXT;
L_OP_UMSLMOD:
  {
    ucell r;
    if (UNLIKELY(!tos))
      THROW(-10);
    if (UNLIKELY((ucell)sp[0] >= (ucell)tos))
      THROW(-11);
    tos = (cell)udiv21((ucell)sp[0], (ucell)sp[-1], (ucell)tos, &r);
    sp--;
    *sp = (cell)r;
  }
  NEXT;
L_OP_SMSLREM:
  code = vm_sm_rem(DC(sp[-1], sp[0]), tos, &t, &u);
  if (UNLIKELY(code))
    goto do_throw;
  sp--;
  *sp = t;
  tos = u;
  NEXT;
L_OP_FMSLMOD:
  code = vm_fm_mod(DC(sp[-1], sp[0]), tos, &t, &u);
  if (UNLIKELY(code))
    goto do_throw;
  sp--;
  *sp = t;
  tos = u;
  NEXT;
L_OP_STARSLASH:
  code = vm_sm_rem((dcell)sp[-1] * sp[0], tos, &t, &u);
  if (UNLIKELY(code))
    goto do_throw;
  sp -= 2;
  tos = u;
  NEXT;
L_OP_STARSLASHMOD:
  code = vm_sm_rem((dcell)sp[-1] * sp[0], tos, &t, &u);
  if (UNLIKELY(code))
    goto do_throw;
  sp--;
  *sp = t;
  tos = u;
  NEXT;
L_OP_DPLUS:
  {
    udcell r = (udcell)DC(sp[-2], sp[-1]) + (udcell)DC(sp[0], tos);
    sp -= 2;
    *sp = (cell)(ucell)r;
    tos = (cell)(ucell)(r >> BITS);
  }
  NEXT;
L_OP_DMINUS:
  {
    udcell r = (udcell)DC(sp[-2], sp[-1]) - (udcell)DC(sp[0], tos);
    sp -= 2;
    *sp = (cell)(ucell)r;
    tos = (cell)(ucell)(r >> BITS);
  }
  NEXT;
L_OP_DNEGATE:
  {
    udcell r = 0 - (udcell)DC(sp[0], tos);
    *sp = (cell)(ucell)r;
    tos = (cell)(ucell)(r >> BITS);
  }
  NEXT;
L_OP_STOD:
  PUSHT(tos < 0 ? -1 : 0);
  NEXT;

#include "vm_ext.inc"

out_of_fuel:
  ip--;
  *++sp = tos;
  SAVE();
  vm->fuel_used += (unsigned long)(fuel0 - fuel);
  return FORTH_YIELD;

bad_addr:
  THROW(-9);

stack_err:
  if (sp < sp_lo)
    code = -4;
  else if ((ucell)(sp - sp_lo) > sp_span)
    code = -3;
  else if (rp < rp_lo)
    code = -6;
  else
    code = -5;
  goto do_throw;

do_throw:
  *++sp = tos;
  SAVE();
  vm_note_error(vm, code);
do_rethrow:
  vm->ms_active = 0;
  vm->search_active = 0;
  if (vm->ncatch == 0) {
    /* No handler: leave the VM finished; the embedder gets the code. */
    vm->done = 1;
    vm->fuel_used += (unsigned long)(fuel0 - fuel);
    return code < -4095 || code >= 0 ? -4095 : (int)code;
  }
  {
    struct catchframe *f = &vm->catches[--vm->ncatch];
    sp = f->sp;
    rp = f->rp;
    vm->lp = f->lp;
    vm->fsp = f->fsp;
    csp = f->csp;
    tos = code;
    if (vm->nsrc > f->nsrc)
      vm_reset_sources(vm, f->nsrc);
    RELOAD();
    ip = *csp--;
  }
  NEXT;
}
