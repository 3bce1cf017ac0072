/* Sparse matrix-vector kernels, int8 weights, int16 activations, int64 accumulator (wn_sparse.inc). */
#include "wn_dot.h"
#include "wn_requant.h"
#define WN_SFX s8s16
#define WN_XT int16_t
#define WN_VT int8_t
#define WN_ACCT int64_t
#define WN_BT int64_t
#define WN_VALUE(values, j) ((int64_t)(values)[j])
#define WN_BLOCK_ACC(acc, values, first, x, n) ((acc) += wn_dot_s8s16((values) + (first), x, n))
#define WN_QPARAMS , const int32_t *mult, const int32_t *shift, int32_t zp_out
#define WN_STORE(y, row, acc) \
    ((y)[row] = (int16_t)wn_clamp((int64_t)wn_requant64(acc, mult[row], shift[row]) + zp_out, -32768, 32767))
#include "wn_sparse.inc"
