/* Integer convolutions, int16 weights, int16 activations, int64 accumulator.
 * Weights are stored output-major ([Cout][K][Cin]; transposed conv [hop][Cout][Cin]), the input
 * zero point is folded into the bias at compile time, so acc = bias[o] + sum w * x; then
 * out = clamp(requant(acc, mult[o], shift[o]) + zp_out). */
#include "wn_runtime.h"
#include "wn_dot.h"
#include "wn_requant.h"

static int16_t wn_out_s16(int64_t acc, int32_t mult, int32_t shift, int32_t zp_out)
{
    return (int16_t)wn_clamp((int64_t)wn_requant64(acc, mult, shift) + zp_out, -32768, 32767);
}

/* pointwise (1x1) convolution of one time step */
void wn_conv_s16(int16_t *y, const int16_t *x, const int16_t *w, const int64_t *bias,
                  const int32_t *mult, const int32_t *shift, int32_t cin, int32_t cout,
                  int32_t zp_out)
{
    int32_t o;
    for (o = 0; o < cout; ++o) {
        const int16_t *wrow = w + (size_t)o * (size_t)cin;
        const int64_t acc = bias[o] + wn_dot_s16(wrow, x, cin);
        y[o] = wn_out_s16(acc, mult[o], shift[o], zp_out);
    }
}

/* one step of a causal dilated convolution over a ring buffer (see wn_conv_ring_f32.c) */
void wn_conv_ring_s16(int16_t *y, int16_t *ring, int32_t *pos, const int16_t *x, const int16_t *w,
                       const int64_t *bias, const int32_t *mult, const int32_t *shift,
                       int32_t cin, int32_t cout, int32_t kernel, int32_t dilation,
                       int32_t ring_len, int32_t zp_out)
{
    int32_t p = *pos + 1, i, k, o;
    int16_t *slot;
    if (p == ring_len) {
        p = 0;
    }
    *pos = p;
    slot = ring + (size_t)p * (size_t)cin;
    for (i = 0; i < cin; ++i) {
        slot[i] = x[i];
    }
    for (o = 0; o < cout; ++o) {
        const int16_t *wrow = w + (size_t)o * (size_t)kernel * (size_t)cin;
        int64_t acc = bias[o];
        for (k = 0; k < kernel; ++k) {
            int32_t row = p - (kernel - 1 - k) * dilation;
            if (row < 0) {
                row += ring_len;
            }
            acc += wn_dot_s16(wrow + (size_t)k * (size_t)cin, ring + (size_t)row * (size_t)cin, cin);
        }
        y[o] = wn_out_s16(acc, mult[o], shift[o], zp_out);
    }
}

/* transposed-convolution upsampling of one mel frame into hop rows of cout values */
void wn_convt_s16(int16_t *table, const int16_t *x, const int16_t *w, const int64_t *bias,
                   const int32_t *mult, const int32_t *shift, int32_t cin, int32_t cout,
                   int32_t hop, int32_t zp_out)
{
    int32_t p, o;
    for (p = 0; p < hop; ++p) {
        for (o = 0; o < cout; ++o) {
            const int16_t *wrow = w + ((size_t)p * (size_t)cout + (size_t)o) * (size_t)cin;
            const int64_t acc = bias[o] + wn_dot_s16(wrow, x, cin);
            table[(size_t)p * (size_t)cout + (size_t)o] = wn_out_s16(acc, mult[o], shift[o], zp_out);
        }
    }
}
