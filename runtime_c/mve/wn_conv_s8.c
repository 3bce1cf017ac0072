/* Integer convolutions, int8 weights, int8 activations, int32 accumulator: Helium (MVE, Cortex-M55).
 * Same functions and arithmetic as runtime_c/ref/wn_conv_s8.c; only the dot product differs:
 * VMLADAVA multiplies 16 int8 pairs and adds them all to a scalar int32 in one instruction; the
 * last partial vector is tail-predicated (VCTP: inactive lanes load as zero and touch no memory).
 * Integer sums are exact, so the result equals the reference bit for bit. */
#include <arm_mve.h>

#include "wn_runtime.h"
#include "wn_requant.h"

#if !defined(__ARM_FEATURE_MVE)
#error "runtime_c/mve needs Helium (-mcpu=cortex-m55)"
#endif

static inline int32_t wn_dot_s8_mve(const int8_t *w, const int8_t *x, int32_t n)
{
    int32_t acc = 0;
    for (; n > 0; n -= 16, w += 16, x += 16) {
        const mve_pred16_t p = vctp8q((uint32_t)n);
        acc = vmladavaq_s8(acc, vldrbq_z_s8(w, p), vldrbq_z_s8(x, p));
    }
    return acc;
}

static int8_t wn_out_s8(int32_t acc, int32_t mult, int32_t shift, int32_t zp_out)
{
    return (int8_t)wn_clamp((int64_t)wn_requant(acc, mult, shift) + zp_out, -128, 127);
}

/* pointwise (1x1) convolution of one time step */
void wn_conv_s8(int8_t *y, const int8_t *x, const int8_t *w, const int32_t *bias,
                  const int32_t *mult, const int32_t *shift, int32_t cin, int32_t cout,
                  int32_t zp_out)
{
    int32_t o;
    for (o = 0; o < cout; ++o) {
        const int8_t *wrow = w + (size_t)o * (size_t)cin;
        const int32_t acc = bias[o] + wn_dot_s8_mve(wrow, x, cin);
        y[o] = wn_out_s8(acc, mult[o], shift[o], zp_out);
    }
}

/* one step of a causal dilated convolution over a ring buffer (see wn_conv_ring_f32.c) */
void wn_conv_ring_s8(int8_t *y, int8_t *ring, int32_t *pos, const int8_t *x, const int8_t *w,
                       const int32_t *bias, const int32_t *mult, const int32_t *shift,
                       int32_t cin, int32_t cout, int32_t kernel, int32_t dilation,
                       int32_t ring_len, int32_t zp_out)
{
    int32_t p = *pos + 1, i, k, o;
    int8_t *slot;
    if (p == ring_len) {
        p = 0;
    }
    *pos = p;
    slot = ring + (size_t)p * (size_t)cin;
    for (i = 0; i < cin; ++i) {
        slot[i] = x[i];
    }
    for (o = 0; o < cout; ++o) {
        const int8_t *wrow = w + (size_t)o * (size_t)kernel * (size_t)cin;
        int32_t acc = bias[o];
        for (k = 0; k < kernel; ++k) {
            int32_t row = p - (kernel - 1 - k) * dilation;
            if (row < 0) {
                row += ring_len;
            }
            acc += wn_dot_s8_mve(wrow + (size_t)k * (size_t)cin, ring + (size_t)row * (size_t)cin, cin);
        }
        y[o] = wn_out_s8(acc, mult[o], shift[o], zp_out);
    }
}

/* transposed-convolution upsampling of one mel frame into hop rows of cout values */
void wn_convt_s8(int8_t *table, const int8_t *x, const int8_t *w, const int32_t *bias,
                   const int32_t *mult, const int32_t *shift, int32_t cin, int32_t cout,
                   int32_t hop, int32_t zp_out)
{
    int32_t p, o;
    for (p = 0; p < hop; ++p) {
        for (o = 0; o < cout; ++o) {
            const int8_t *wrow = w + ((size_t)p * (size_t)cout + (size_t)o) * (size_t)cin;
            const int32_t acc = bias[o] + wn_dot_s8_mve(wrow, x, cin);
            table[(size_t)p * (size_t)cout + (size_t)o] = wn_out_s8(acc, mult[o], shift[o], zp_out);
        }
    }
}
