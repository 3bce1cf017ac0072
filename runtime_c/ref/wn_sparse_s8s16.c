/* Sparse matrix-vector kernels, int8 weights, int16 activations, int64 accumulator (wn_sparse.inc). */
#include "wn_dot.h"
#include "wn_requant.h"
#define WN_SFX s8s16
#define WN_XT int16_t
#define WN_VT int8_t
#define WN_ACCT int64_t
#define WN_VALUE(values, j) ((int64_t)(values)[j])
#define WN_BLOCK_ACC(acc, values, first, x, n) ((acc) += wn_dot_s8s16((values) + (first), x, n))
#define WN_BIAS_PARAM const wn_rq *qp
#define WN_LOCALS const wn_rq rq = *qp, *q = &rq;
#define WN_BIAS(row) ((WN_ACCT)wn_rq_bias(q, row))
#define WN_STORE(y, row, acc) ((y)[row] = (WN_XT)wn_rq_out16(acc, q, row))
#include "wn_sparse.inc"
