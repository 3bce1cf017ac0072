/* Sparse matrix-vector kernels, fp32 (wn_sparse.inc). */
#define WN_SFX f32
#define WN_XT float
#define WN_VT float
#define WN_ACCT float
#define WN_VALUE(values, j) (values)[j]
#define WN_BIAS_PARAM const float *bias
#define WN_LOCALS
#define WN_BIAS(row) (bias[row])
#define WN_BLOCK_ACC(acc, values, first, x, n)                                                 \
    do {                                                                                       \
        int32_t c_;                                                                            \
        for (c_ = 0; c_ < (n); ++c_) {                                                         \
            (acc) += (values)[(first) + c_] * (x)[c_];                                         \
        }                                                                                      \
    } while (0)
#define WN_STORE(y, row, acc) ((y)[row] = (acc))

#include "wn_sparse.inc"
