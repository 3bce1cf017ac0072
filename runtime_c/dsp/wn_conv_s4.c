/* Integer convolutions, int4 weights packed two per byte, int8 activations, int32 accumulator:
 * Cortex-M DSP extension (M4, M7, M33, M55). Same functions and arithmetic as
 * runtime_c/ref/wn_conv_s4.c; only the dot product differs. Eight weights (one word) at a time:
 * masking puts each byte's low nibble (even element) or high nibble (odd element) in the top four
 * bits of a byte, i.e. 16 times the signed weight, so SXTB16 sign-extends them like int8 values;
 * the activations are paired to match (SXTB16, PKHBT/PKHTB) and SMLAD accumulates 16 * sum, divided
 * exactly by 16 at the end (|16 * sum| <= 2^14 * n: exact for n < 131072). Integer sums are exact,
 * so the result equals the reference bit for bit. */
#include <arm_acle.h>
#include <string.h>

#include "wn_runtime.h"
#include "wn_requant.h"

#if !defined(__ARM_FEATURE_DSP)
#error "runtime_c/dsp needs the DSP extension (-mcpu=cortex-m4, cortex-m7, cortex-m33 or cortex-m55)"
#endif

/* one 32-bit word from any alignment (LDR on v7-M/v8-M allows unaligned words) */
static inline uint32_t wn_read32(const void *p)
{
    uint32_t v;
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

/* element j of the packed weights: byte j / 2, low nibble when j is even */
static inline int32_t wn_nibble_s4(const uint8_t *w, int32_t j)
{
    const int32_t nibble = (j & 1) ? (w[j >> 1] >> 4) : (w[j >> 1] & 0xF);
    return (nibble ^ 8) - 8;
}

static inline int32_t wn_dot_s4_dsp(const uint8_t *w, int32_t first, const int8_t *x, int32_t n)
{
    int32_t acc = 0, acc16 = 0, i = 0;
    const uint8_t *wb;
    if ((first & 1) && n > 0) { /* an odd start: its high nibble, then whole bytes */
        acc = wn_nibble_s4(w, first) * (int32_t)x[0];
        i = 1;
    }
    wb = w + ((first + i) >> 1);
    for (; i + 8 <= n; i += 8, wb += 4) {
        const uint32_t wv = wn_read32(wb), xa = wn_read32(x + i), xb = wn_read32(x + i + 4);
        const uint32_t even = (wv << 4) & 0xF0F0F0F0u, odd = wv & 0xF0F0F0F0u; /* 16 * w */
        const int32_t x02 = __sxtb16((int32_t)xa), x13 = wn_sxtb16_ror8((int32_t)xa);
        const int32_t x46 = __sxtb16((int32_t)xb), x57 = wn_sxtb16_ror8((int32_t)xb);
        acc16 = __smlad(__sxtb16((int32_t)even), wn_pkhbt16(x02, x46), acc16);         /* 0, 4 */
        acc16 = __smlad(wn_sxtb16_ror8((int32_t)even), wn_pkhtb16(x46, x02), acc16); /* 2, 6 */
        acc16 = __smlad(__sxtb16((int32_t)odd), wn_pkhbt16(x13, x57), acc16);          /* 1, 5 */
        acc16 = __smlad(wn_sxtb16_ror8((int32_t)odd), wn_pkhtb16(x57, x13), acc16);  /* 3, 7 */
    }
    acc += acc16 / 16;
    for (; i < n; ++i) {
        acc += wn_nibble_s4(w, first + i) * (int32_t)x[i];
    }
    return acc;
}

static int8_t wn_out_s4(int32_t acc, int32_t mult, int32_t shift, int32_t zp_out)
{
    return (int8_t)wn_clamp((int64_t)wn_requant(acc, mult, shift) + zp_out, -128, 127);
}

/* pointwise (1x1) convolution of one time step */
void wn_conv_s4(int8_t *y, const int8_t *x, const uint8_t *w, const int32_t *bias,
                  const int32_t *mult, const int32_t *shift, int32_t cin, int32_t cout,
                  int32_t zp_out)
{
    int32_t o;
    for (o = 0; o < cout; ++o) {
        const int32_t acc = bias[o] + wn_dot_s4_dsp(w, o * cin, x, cin);
        y[o] = wn_out_s4(acc, mult[o], shift[o], zp_out);
    }
}

/* one step of a causal dilated convolution over a ring buffer (see wn_conv_ring_f32.c) */
void wn_conv_ring_s4(int8_t *y, int8_t *ring, int32_t *pos, const int8_t *x, const uint8_t *w,
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
        int32_t acc = bias[o];
        for (k = 0; k < kernel; ++k) {
            int32_t row = p - (kernel - 1 - k) * dilation;
            if (row < 0) {
                row += ring_len;
            }
            acc += wn_dot_s4_dsp(w, (o * kernel + k) * cin, ring + (size_t)row * (size_t)cin, cin);
        }
        y[o] = wn_out_s4(acc, mult[o], shift[o], zp_out);
    }
}

/* transposed-convolution upsampling of one mel frame into hop rows of cout values */
void wn_convt_s4(int8_t *table, const int8_t *x, const uint8_t *w, const int32_t *bias,
                   const int32_t *mult, const int32_t *shift, int32_t cin, int32_t cout,
                   int32_t hop, int32_t zp_out)
{
    int32_t p, o;
    for (p = 0; p < hop; ++p) {
        for (o = 0; o < cout; ++o) {
            const int32_t acc = bias[o] + wn_dot_s4_dsp(w, (p * cout + o) * cin, x, cin);
            table[(size_t)p * (size_t)cout + (size_t)o] = wn_out_s4(acc, mult[o], shift[o], zp_out);
        }
    }
}
