/* Sparse matrix-vector kernels, int4 weights packed two per byte in stored order, int8 activations (wn_sparse.inc). */
#include "wn_dot.h"
#include "wn_requant.h"

#define WN_SFX s4
#define WN_XT int8_t
#define WN_VT uint8_t
#define WN_ACCT int32_t
#define WN_BT int32_t
#define WN_VALUE(values, j) wn_s4_at(values, j)
#define WN_BLOCK_ACC(acc, values, first, x, n) ((acc) += wn_dot_s4(values, first, x, n))
#define WN_QPARAMS , const int32_t *mult, const int32_t *shift, int32_t zp_out
#define WN_STORE(y, row, acc) \
    ((y)[row] = (int8_t)wn_clamp((int64_t)wn_requant(acc, mult[row], shift[row]) + zp_out, -128, 127))
#include "wn_sparse.inc"
