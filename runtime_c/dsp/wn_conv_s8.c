/* Integer convolutions, int8 weights, int8 activations, int32 accumulator: Cortex-M DSP extension
 * (M4, M7, M33, M55). Same functions and arithmetic as runtime_c/ref/wn_conv_s8.c; only the dot
 * product differs: SXTB16 unpacks the even and odd bytes of four int8 values into two int16 pairs,
 * SMLAD multiplies and accumulates a pair per instruction. Integer sums are exact, so the result
 * equals the reference bit for bit. */
#include <arm_acle.h>
#include <string.h>

#include "wn_runtime.h"
#include "wn_requant.h"

#if !defined(__ARM_FEATURE_DSP)
#error "runtime_c/dsp needs the DSP extension (-mcpu=cortex-m4, cortex-m7, cortex-m33 or cortex-m55)"
#endif

/* four int8 values as one word, from any alignment (LDR on v7-M/v8-M allows unaligned words) */
static inline int32_t wn_read_s8x4(const int8_t *p)
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

static inline int32_t wn_dot_s8_dsp(const int8_t *w, const int8_t *x, int32_t n)
{
    int32_t acc = 0, i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t wv = wn_read_s8x4(w + i), xv = wn_read_s8x4(x + i);
        acc = __smlad(__sxtb16(wv), __sxtb16(xv), acc);                   /* w0*x0 + w2*x2 */
        acc = __smlad(wn_sxtb16_ror8(wv), wn_sxtb16_ror8(xv), acc);       /* w1*x1 + w3*x3 */
    }
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
        const int32_t acc = bias[o] + wn_dot_s8_dsp(wrow, x, cin);
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
            acc += wn_dot_s8_dsp(wrow + (size_t)k * (size_t)cin, ring + (size_t)row * (size_t)cin,
                                 cin);
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
            const int32_t acc = bias[o] + wn_dot_s8_dsp(wrow, x, cin);
            table[(size_t)p * (size_t)cout + (size_t)o] = wn_out_s8(acc, mult[o], shift[o], zp_out);
        }
    }
}
