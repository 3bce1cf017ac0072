/* Integer convolutions, int8 weights, int8 activations, int32 accumulator: NEON (armv7-a with
 * -mfpu=neon, aarch64). Same functions and arithmetic as runtime_c/ref/wn_conv_s8.c; only the dot
 * product differs: VMULL.S8 forms 8 int16 products, VPADAL.S16 adds them pairwise into int32 lanes.
 * Each int16 lane holds one product (|w*x| <= 2^14); adding two products in int16 (VMLAL.S8) would
 * overflow at -128*-128 + -128*-128, so it is not used. Integer sums are exact, so the result
 * equals the reference bit for bit. */
#include <arm_neon.h>

#include "wn_runtime.h"
#include "wn_requant.h"

#if !defined(__ARM_NEON)
#error "runtime_c/neon needs NEON (armv7-a: -mfpu=neon -mfloat-abi=hard; any aarch64)"
#endif

/* the four int32 lanes added (armv7 has no across-vector add) */
static inline int32_t wn_sum_s32x4(int32x4_t v)
{
#if defined(__aarch64__)
    return vaddvq_s32(v);
#else
    const int32x2_t s = vadd_s32(vget_low_s32(v), vget_high_s32(v));
    return vget_lane_s32(vpadd_s32(s, s), 0);
#endif
}

static inline int32_t wn_dot_s8_neon(const int8_t *w, const int8_t *x, int32_t n)
{
    int32x4_t acc4 = vdupq_n_s32(0);
    int32_t acc, i = 0;
    for (; i + 16 <= n; i += 16) {
        const int8x16_t wv = vld1q_s8(w + i), xv = vld1q_s8(x + i);
        acc4 = vpadalq_s16(acc4, vmull_s8(vget_low_s8(wv), vget_low_s8(xv)));
        acc4 = vpadalq_s16(acc4, vmull_s8(vget_high_s8(wv), vget_high_s8(xv)));
    }
    if (i + 8 <= n) {
        acc4 = vpadalq_s16(acc4, vmull_s8(vld1_s8(w + i), vld1_s8(x + i)));
        i += 8;
    }
    acc = wn_sum_s32x4(acc4);
    for (; i < n; ++i) {
        acc += (int32_t)w[i] * (int32_t)x[i];
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
        const int32_t acc = bias[o] + wn_dot_s8_neon(wrow, x, cin);
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
            acc += wn_dot_s8_neon(wrow + (size_t)k * (size_t)cin, ring + (size_t)row * (size_t)cin, cin);
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
            const int32_t acc = bias[o] + wn_dot_s8_neon(wrow, x, cin);
            table[(size_t)p * (size_t)cout + (size_t)o] = wn_out_s8(acc, mult[o], shift[o], zp_out);
        }
    }
}
