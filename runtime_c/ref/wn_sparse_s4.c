/* Sparse matrix-vector kernels, int4 weights packed two per byte in stored order, int8 activations (wn_sparse.inc). */
#include "wn_dot.h"
#include "wn_requant.h"

#define WN_SFX s4
#define WN_XT int8_t
#define WN_VT uint8_t
#define WN_ACCT int32_t
#define WN_VALUE(values, j) wn_s4_at(values, j)
#define WN_BLOCK_ACC(acc, values, first, x, n) ((acc) += wn_dot_s4(values, first, x, n))
#define WN_BIAS_PARAM const wn_rq *qp
#define WN_LOCALS const wn_rq rq = *qp, *q = &rq;
#define WN_BIAS(row) ((WN_ACCT)wn_rq_bias(q, row))
#define WN_STORE(y, row, acc) ((y)[row] = (WN_XT)wn_rq_out8(acc, q, row))
#include "wn_sparse.inc"
