#include "wn_runtime.h"

/* Pointwise (1x1) convolution of one time step: y = b + W x.
 * w is stored input-major, w[i * cout + o], so the inner loop runs over outputs. */
void wn_conv_f32(float *y, const float *x, const float *w, const float *b, int32_t cin,
                 int32_t cout)
{
    int32_t i, o;
    for (o = 0; o < cout; ++o) {
        y[o] = b[o];
    }
    for (i = 0; i < cin; ++i) {
        const float xi = x[i];
        const float *row = w + (size_t)i * (size_t)cout;
        for (o = 0; o < cout; ++o) {
            y[o] += row[o] * xi;
        }
    }
}
