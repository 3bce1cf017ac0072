#include "wn_runtime.h"

/* Transposed-convolution upsampling with kernel == stride == hop, for one mel frame: the hop
 * output rows table[p * cout + o] = b[o] + sum_i w[(i * hop + p) * cout + o] * x[i]. */
void wn_convt_f32(float *table, const float *x, const float *w, const float *b, int32_t cin,
                  int32_t cout, int32_t hop)
{
    const size_t rows = (size_t)hop * (size_t)cout;
    size_t j;
    int32_t i;
    for (j = 0; j < rows; ++j) {
        table[j] = b[j % (size_t)cout];
    }
    for (i = 0; i < cin; ++i) {
        const float xi = x[i];
        const float *wi = w + (size_t)i * rows;
        for (j = 0; j < rows; ++j) {
            table[j] += wi[j] * xi;
        }
    }
}
