/* Sparse matrix-vector kernels, fp32 (wn_sparse.inc). */
#define WN_SFX f32
#define WN_XT float
#define WN_VT float
#define WN_ACCT float
#define WN_BT float
#define WN_VALUE(values, j) (values)[j]
#define WN_QPARAMS
#define WN_STORE(y, row, acc) ((y)[row] = (acc))
#include "wn_sparse.inc"
