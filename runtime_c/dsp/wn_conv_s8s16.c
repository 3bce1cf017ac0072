/* Integer convolutions, int8 weights, int16 activations, int64 accumulator: Cortex-M DSP extension
 * (M4, M7, M33, M55). Same functions and arithmetic as runtime_c/ref/wn_conv_s8s16.c; only the dot
 * product differs: SXTB16 widens four int8 weights to int16 pairs, PKHBT/PKHTB reorder them to
 * match two int16 activation pairs, SMLALD multiplies and accumulates a pair into 64 bits. Integer
 * sums are exact, so the result equals the reference bit for bit. */
#include <arm_acle.h>
#include <string.h>

#include "wn_runtime.h"
#include "wn_requant.h"

#if !defined(__ARM_FEATURE_DSP)
#error "runtime_c/dsp needs the DSP extension (-mcpu=cortex-m4, cortex-m7, cortex-m33 or cortex-m55)"
#endif

/* one 32-bit word from any alignment (LDR on v7-M/v8-M allows unaligned words) */
static inline int32_t wn_read32(const void *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* bytes 1 and 3 sign-extended to two int16 halves: SXTB16 with its ROR #8 operand (gcc 12's
 * arm_acle.h has no __ror, and gcc does not fold a C rotate into __sxtb16) */
static inline int32_t wn_sxtb16_ror8(int32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

/* PKHBT / PKHTB: gcc has no intrinsic and does not form them from C (it emits two or three
 * instructions for the mask-and-or) */
static inline int32_t wn_pkhbt16(int32_t lo, int32_t hi) /* lo's bottom half, hi's bottom half on top */
{
    int32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
    return r;
}

static inline int32_t wn_pkhtb16(int32_t hi, int32_t lo) /* hi's top half, lo's top half below */
{
    int32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(hi), "r"(lo));
    return r;
}

static inline int64_t wn_dot_s8s16_dsp(const int8_t *w, const int16_t *x, int32_t n)
{
    int64_t acc = 0;
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t wv = wn_read32(w + i);
        const int32_t w02 = __sxtb16(wv), w13 = wn_sxtb16_ror8(wv);
        acc = __smlald(wn_pkhbt16(w02, w13), wn_read32(x + i), acc);     /* w0*x0 + w1*x1 */
        acc = __smlald(wn_pkhtb16(w13, w02), wn_read32(x + i + 2), acc); /* w2*x2 + w3*x3 */
    }
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
        const int64_t acc = bias[o] + wn_dot_s8s16_dsp(wrow, x, cin);
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
            acc += wn_dot_s8s16_dsp(wrow + (size_t)k * (size_t)cin, ring + (size_t)row * (size_t)cin, cin);
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
            const int64_t acc = bias[o] + wn_dot_s8s16_dsp(wrow, x, cin);
            table[(size_t)p * (size_t)cout + (size_t)o] = wn_out_s8s16(acc, mult[o], shift[o], zp_out);
        }
    }
}
