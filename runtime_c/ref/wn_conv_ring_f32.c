#include "wn_runtime.h"
#include "wn_ring.h"

/* One step of a causal dilated convolution over a ring buffer of its past inputs (wn_ring.h).
 * The ring holds ring_len = (kernel - 1) * dilation + 1 rows of cin values; x is written to the
 * next row, then tap k (oldest first) is read. w is stored w[(k * cin + i) * cout + o]. */
void wn_conv_ring_f32(float *y, float *ring, int32_t *pos, const float *x, const float *w,
                      const float *b, int32_t cin, int32_t cout, int32_t kernel,
                      int32_t dilation, int32_t ring_len)
{
    const int32_t p = wn_ring_advance(pos, ring_len);
    float *slot = ring + (size_t)p * (size_t)cin;
    int32_t i, k, o;
    for (i = 0; i < cin; ++i) {
        slot[i] = x[i];
    }
    for (o = 0; o < cout; ++o) {
        y[o] = b[o];
    }
    for (k = 0; k < kernel; ++k) {
        const float *tap = ring + (size_t)wn_ring_tap(p, k, kernel, dilation, ring_len) * (size_t)cin;
        const float *wk = w + (size_t)k * (size_t)cin * (size_t)cout;
        for (i = 0; i < cin; ++i) {
            const float xi = tap[i];
            const float *wrow = wk + (size_t)i * (size_t)cout;
            for (o = 0; o < cout; ++o) {
                y[o] += wrow[o] * xi;
            }
        }
    }
}
