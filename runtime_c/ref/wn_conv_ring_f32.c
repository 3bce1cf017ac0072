#include "wn_runtime.h"

/* One step of a causal dilated convolution over a ring buffer of its past inputs.
 * The ring holds ring_len = (kernel - 1) * dilation + 1 rows of cin values; *pos is the row of
 * the newest input. x is written to the next row, then tap k (oldest first) reads row
 * pos - (kernel - 1 - k) * dilation modulo ring_len. Nothing moves: the cost does not depend on
 * the dilation. w is stored w[(k * cin + i) * cout + o]. */
void wn_conv_ring_f32(float *y, float *ring, int32_t *pos, const float *x, const float *w,
                      const float *b, int32_t cin, int32_t cout, int32_t kernel,
                      int32_t dilation, int32_t ring_len)
{
    int32_t p = *pos + 1, i, k, o;
    float *slot;
    if (p == ring_len) {
        p = 0;
    }
    *pos = p;
    slot = ring + (size_t)p * (size_t)cin;
    for (i = 0; i < cin; ++i) {
        slot[i] = x[i];
    }
    for (o = 0; o < cout; ++o) {
        y[o] = b[o];
    }
    for (k = 0; k < kernel; ++k) {
        int32_t row = p - (kernel - 1 - k) * dilation;
        const float *tap, *wk;
        if (row < 0) {
            row += ring_len;
        }
        tap = ring + (size_t)row * (size_t)cin;
        wk = w + (size_t)k * (size_t)cin * (size_t)cout;
        for (i = 0; i < cin; ++i) {
            const float xi = tap[i];
            const float *wrow = wk + (size_t)i * (size_t)cout;
            for (o = 0; o < cout; ++o) {
                y[o] += wrow[o] * xi;
            }
        }
    }
}
