/* Integer convolutions, int8 weights, int16 activations, int64 accumulator: NEON (armv7-a with
 * -mfpu=neon, aarch64). Same functions and arithmetic as runtime_c/ref/wn_conv_s8s16.c; only the
 * dot product differs: VMOVL widens 8 weights to int16, VMULL.S16 + VMLAL.S16 put two products in
 * each int32 lane (|w*x| <= 2^22, so a sum of two fits), VPADAL.S32 adds those pairwise into int64
 * lanes. Integer sums are exact, so the result equals the reference bit for bit. */
#include <arm_neon.h>

#include "wn_runtime.h"
#include "wn_requant.h"

#if !defined(__ARM_NEON)
#error "runtime_c/neon needs NEON (armv7-a: -mfpu=neon -mfloat-abi=hard; any aarch64)"
#endif

static inline int64_t wn_dot_s8s16_neon(const int8_t *w, const int16_t *x, int32_t n)
{
    int64x2_t acc2 = vdupq_n_s64(0);
    int64_t acc;
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const int16x8_t wv = vmovl_s8(vld1_s8(w + i)), xv = vld1q_s16(x + i);
        const int32x4_t p = vmlal_s16(vmull_s16(vget_low_s16(wv), vget_low_s16(xv)),
                                      vget_high_s16(wv), vget_high_s16(xv));
        acc2 = vpadalq_s32(acc2, p);
    }
    acc = vgetq_lane_s64(acc2, 0) + vgetq_lane_s64(acc2, 1);
    for (; i < n; ++i) {
        acc += (int32_t)w[i] * (int32_t)x[i];
    }
    return acc;
}

static int16_t wn_out_s8s16(int64_t acc, int32_t mult, int32_t shift, int32_t zp_out)
{
    return (int16_t)wn_clamp((int64_t)wn_requant64(acc, mult, shift) + zp_out, -32768, 32767);
}

/* pointwise (1x1) convolution of one time step */
void wn_conv_s8s16(int16_t *y, const int16_t *x, const int8_t *w, const int64_t *bias,
                  const int32_t *mult, const int32_t *shift, int32_t cin, int32_t cout,
                  int32_t zp_out)
{
    int32_t o;
    for (o = 0; o < cout; ++o) {
        const int8_t *wrow = w + (size_t)o * (size_t)cin;
        const int64_t acc = bias[o] + wn_dot_s8s16_neon(wrow, x, cin);
        y[o] = wn_out_s8s16(acc, mult[o], shift[o], zp_out);
    }
}

/* one step of a causal dilated convolution over a ring buffer (see wn_conv_ring_f32.c) */
void wn_conv_ring_s8s16(int16_t *y, int16_t *ring, int32_t *pos, const int16_t *x, const int8_t *w,
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
        const int8_t *wrow = w + (size_t)o * (size_t)kernel * (size_t)cin;
        int64_t acc = bias[o];
        for (k = 0; k < kernel; ++k) {
            int32_t row = p - (kernel - 1 - k) * dilation;
            if (row < 0) {
                row += ring_len;
            }
            acc += wn_dot_s8s16_neon(wrow + (size_t)k * (size_t)cin, ring + (size_t)row * (size_t)cin, cin);
        }
        y[o] = wn_out_s8s16(acc, mult[o], shift[o], zp_out);
    }
}

/* transposed-convolution upsampling of one mel frame into hop rows of cout values */
void wn_convt_s8s16(int16_t *table, const int16_t *x, const int8_t *w, const int64_t *bias,
                   const int32_t *mult, const int32_t *shift, int32_t cin, int32_t cout,
                   int32_t hop, int32_t zp_out)
{
    int32_t p, o;
    for (p = 0; p < hop; ++p) {
        for (o = 0; o < cout; ++o) {
            const int8_t *wrow = w + ((size_t)p * (size_t)cout + (size_t)o) * (size_t)cin;
            const int64_t acc = bias[o] + wn_dot_s8s16_neon(wrow, x, cin);
            table[(size_t)p * (size_t)cout + (size_t)o] = wn_out_s8s16(acc, mult[o], shift[o], zp_out);
        }
    }
}
