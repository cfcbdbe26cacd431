/*
 * vm_aux.c: helpers of the inner interpreter (vm.c): the opcode table
 * (operand counts, label to opcode) and the mixed-precision divisions.
 *
 * Interface:
 *   vm_operands, vm_op_of, vm_sm_rem, vm_fm_mod
 */
#include "forth_int.h"

#define BITS ((int)(8 * sizeof(cell)))

int vm_operands(int op)
{
  switch (op) {
  case OP_FLIT:
    return FLIT_CELLS;
  case OP_LOCALS: case OP_UNLOCALS: case OP_LOCAL_FETCH: case OP_LOCAL_STORE:
  case OP_FLITFETCH: case OP_FLITSTORE:
    return 1;
  case OP_LIT2: case OP_CCALL: case OP_ABORTQ: case OP_LIT_PLOOP:
  case OP_LIT_LT_QBRANCH:
    return 2;
  case OP_CALL: case OP_LIT: case OP_BRANCH: case OP_QBRANCH: case OP_QDO:
  case OP_LOOP: case OP_PLOOP: case OP_LEAVE: case OP_DEFER: case OP_OF:
  case OP_LITFETCH: case OP_LITSTORE: case OP_LIT2FETCH: case OP_LIT2STORE:
  case OP_DOES: case OP_LIT_ADD: case OP_LIT_SUB: case OP_LIT_EQ:
  case OP_LIT_LT: case OP_LIT_AND: case OP_LIT_MUL: case OP_ZEQ_QBRANCH:
  case OP_LT_QBRANCH: case OP_EQ_QBRANCH: case OP_GT_QBRANCH:
  case OP_DUP_QBRANCH: case OP_LIT_I_CSTORE: case OP_LIT_ADD_FETCH:
  case OP_CALL_EXIT: case OP_LIT_FETCH: case OP_LIT_STORE:
  case OP_DUP_PLOOP: case OP_I_CFETCH_QBRANCH:
    return 1;
  default:
    return 0;
  }
}

int vm_op_of(const void *label)
{
  for (int i = 0; i < OP_COUNT; i++)
    if (forth_op_addr[i] == label)
      return i;
  return -1;
}

/* Symmetric division of a double by a single; 0, -10 or -11. */
int vm_sm_rem(dcell d, cell n, cell *rem, cell *quo)
{
  if (!n)
    return -10;
  udcell ud = d < 0 ? 0 - (udcell)d : (udcell)d;
  ucell un = n < 0 ? 0 - (ucell)n : (ucell)n, ur;
  if ((ucell)(ud >> BITS) >= un)
    return -11;
  udcell q = udiv21((ucell)(ud >> BITS), (ucell)ud, un, &ur), r = ur;
  int qneg = (d < 0) != (n < 0);
  udcell lim = (udcell)1 << (BITS - 1);
  if (q > lim || (q == lim && !qneg))
    return -11;
  *quo = qneg ? (cell)(ucell)(0 - q) : (cell)(ucell)q;
  *rem = d < 0 ? (cell)(ucell)(0 - r) : (cell)(ucell)r;
  return 0;
}

/* Floored division of a double by a single; 0, -10 or -11. */
int vm_fm_mod(dcell d, cell n, cell *rem, cell *quo)
{
  cell r, q;
  if (!n)
    return -10;
  udcell ud = d < 0 ? 0 - (udcell)d : (udcell)d;
  ucell un = n < 0 ? 0 - (ucell)n : (ucell)n, ur;
  if ((ucell)(ud >> BITS) >= un)
    return -11;
  udcell uq = udiv21((ucell)(ud >> BITS), (ucell)ud, un, &ur);
  int qneg = (d < 0) != (n < 0);
  if (qneg && ur)
    uq++;
  udcell lim = (udcell)1 << (BITS - 1);
  if (uq > lim || (uq == lim && !qneg))
    return -11;
  q = qneg ? (cell)(ucell)(0 - uq) : (cell)(ucell)uq;
  /* remainder has the sign of the divisor */
  r = (cell)(ucell)((udcell)d - (udcell)((dcell)q * n));
  *quo = q;
  *rem = r;
  return 0;
}
