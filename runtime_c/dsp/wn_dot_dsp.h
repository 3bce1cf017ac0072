/* dsp: the dot products of the integer kernels for this ISA (the project's wn_dot_isa.h includes
 * this for the target; runtime_c/ref/wn_dot.h then skips its portable loops for the dot
 * products defined here; the kernels themselves are the reference ones).
 * Integer sums are exact, so the results equal the reference bit for bit. */
#ifndef WN_DOT_DSP_H
#define WN_DOT_DSP_H

#include <arm_acle.h>
#include <string.h>
#include <stdint.h>

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

#ifndef WN_HAVE_DOT_S4
#define WN_HAVE_DOT_S4
#define WN_S4_CHUNK 131064 /* 2^17 - 8 products of at most 2^14: below 2^31 */
static inline int32_t wn_dot_s4(const uint8_t *w, int32_t first, const int8_t *x, int32_t n)
{
    int32_t acc = 0, acc16 = 0, i = 0;
    const uint8_t *wb;
    if ((first & 1) && n > 0) { /* an odd start: its high nibble, then whole bytes */
        acc = wn_s4_at(w, first) * (int32_t)x[0];
        i = 1;
    }
    wb = w + ((first + i) >> 1);
    while (i + 8 <= n) {
        /* acc16 sums 16 * w * x, up to 2^14 per product (16 * -8 * -128): flushed to acc every
         * WN_S4_CHUNK products so that it cannot pass 2^31 (acc itself holds the plain sum,
         * which fits whenever the reference's int32 sum does) */
        const int32_t stop = n - i > WN_S4_CHUNK ? i + WN_S4_CHUNK : n;
        for (; i + 8 <= stop; i += 8, wb += 4) {
            const uint32_t wv = wn_read32(wb), xa = wn_read32(x + i), xb = wn_read32(x + i + 4);
            const uint32_t even = (wv << 4) & 0xF0F0F0F0u, odd = wv & 0xF0F0F0F0u; /* 16 * w */
            const int32_t x02 = __sxtb16((int32_t)xa), x13 = wn_sxtb16_ror8((int32_t)xa);
            const int32_t x46 = __sxtb16((int32_t)xb), x57 = wn_sxtb16_ror8((int32_t)xb);
            acc16 = __smlad(__sxtb16((int32_t)even), wn_pkhbt16(x02, x46), acc16);       /* 0, 4 */
            acc16 = __smlad(wn_sxtb16_ror8((int32_t)even), wn_pkhtb16(x46, x02), acc16); /* 2, 6 */
            acc16 = __smlad(__sxtb16((int32_t)odd), wn_pkhbt16(x13, x57), acc16);        /* 1, 5 */
            acc16 = __smlad(wn_sxtb16_ror8((int32_t)odd), wn_pkhtb16(x57, x13), acc16);  /* 3, 7 */
        }
        acc += acc16 / 16; /* exact: a multiple of 16 */
        acc16 = 0;
    }
    return acc + wn_dot_s4_span(w, first, x, i, n);
}
#endif

#ifndef WN_HAVE_DOT_S8
#define WN_HAVE_DOT_S8
static inline int32_t wn_dot_s8(const int8_t *w, const int8_t *x, int32_t n)
{
    int32_t acc = 0, i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t wv = (int32_t)wn_read32(w + i), xv = (int32_t)wn_read32(x + i);
        acc = __smlad(__sxtb16(wv), __sxtb16(xv), acc);                   /* w0*x0 + w2*x2 */
        acc = __smlad(wn_sxtb16_ror8(wv), wn_sxtb16_ror8(xv), acc);       /* w1*x1 + w3*x3 */
    }
    for (; i < n; ++i) {
        acc += (int32_t)w[i] * (int32_t)x[i];
    }
    return acc;
}
#endif

#ifndef WN_HAVE_DOT2_S8
#define WN_HAVE_DOT2_S8
/* two weight rows against the same x: each word of x is loaded and sign-extended once for both
 * rows (SXTB16 twice), each row's word twice, then four SMLADs */
static inline void wn_dot2_s8(const int8_t *w0, const int8_t *w1, const int8_t *x, int32_t n,
                              int32_t *acc0, int32_t *acc1)
{
    int32_t a0 = *acc0, a1 = *acc1, i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t xv = (int32_t)wn_read32(x + i);
        const int32_t x02 = __sxtb16(xv), x13 = wn_sxtb16_ror8(xv);
        const int32_t u = (int32_t)wn_read32(w0 + i), v = (int32_t)wn_read32(w1 + i);
        a0 = __smlad(__sxtb16(u), x02, a0);
        a0 = __smlad(wn_sxtb16_ror8(u), x13, a0);
        a1 = __smlad(__sxtb16(v), x02, a1);
        a1 = __smlad(wn_sxtb16_ror8(v), x13, a1);
    }
    for (; i < n; ++i) {
        a0 += (int32_t)w0[i] * (int32_t)x[i];
        a1 += (int32_t)w1[i] * (int32_t)x[i];
    }
    *acc0 = a0;
    *acc1 = a1;
}
#endif

#if !defined(WN_HAVE_DOT4_S8) && !defined(__ARM_FEATURE_MVE)
#define WN_HAVE_DOT4_S8
/* four weight rows against the same x: each word of x is loaded and sign-extended once for the
 * four rows, each row's word twice (SXTB16, SXTB16 ROR 8), then two SMLADs per row (not on a
 * Helium core, where wn_dot.h's two MVE wn_dot2_s8 are faster) */
static inline void wn_dot4_s8(const int8_t *w0, const int8_t *w1, const int8_t *w2,
                              const int8_t *w3, const int8_t *x, int32_t n, int32_t acc[4])
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t xv = (int32_t)wn_read32(x + i);
        const int32_t x02 = __sxtb16(xv), x13 = wn_sxtb16_ror8(xv);
        int32_t u = (int32_t)wn_read32(w0 + i);
        a0 = __smlad(__sxtb16(u), x02, a0);
        a0 = __smlad(wn_sxtb16_ror8(u), x13, a0);
        u = (int32_t)wn_read32(w1 + i);
        a1 = __smlad(__sxtb16(u), x02, a1);
        a1 = __smlad(wn_sxtb16_ror8(u), x13, a1);
        u = (int32_t)wn_read32(w2 + i);
        a2 = __smlad(__sxtb16(u), x02, a2);
        a2 = __smlad(wn_sxtb16_ror8(u), x13, a2);
        u = (int32_t)wn_read32(w3 + i);
        a3 = __smlad(__sxtb16(u), x02, a3);
        a3 = __smlad(wn_sxtb16_ror8(u), x13, a3);
    }
    for (; i < n; ++i) {
        a0 += (int32_t)w0[i] * (int32_t)x[i];
        a1 += (int32_t)w1[i] * (int32_t)x[i];
        a2 += (int32_t)w2[i] * (int32_t)x[i];
        a3 += (int32_t)w3[i] * (int32_t)x[i];
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}
#endif

#ifndef WN_HAVE_DOT_S16
#define WN_HAVE_DOT_S16
/* SMLALD: two 16 x 16 products added into a 64-bit accumulator, exact for every int16 input.
 * (SMLAD into an int32 would not do: one pair of products reaches 2^31 - 2^16 with the
 * symmetric weights, and exactly 2^31 when all four values are -32768.) */
static inline int64_t wn_dot_s16(const int16_t *w, const int16_t *x, int32_t n)
{
    int64_t acc = 0;
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) { /* a word holds two elements; the order of the sum is free */
        acc = __smlald((int32_t)wn_read32(w + i), (int32_t)wn_read32(x + i), acc);
        acc = __smlald((int32_t)wn_read32(w + i + 2), (int32_t)wn_read32(x + i + 2), acc);
        acc = __smlald((int32_t)wn_read32(w + i + 4), (int32_t)wn_read32(x + i + 4), acc);
        acc = __smlald((int32_t)wn_read32(w + i + 6), (int32_t)wn_read32(x + i + 6), acc);
    }
    for (; i + 2 <= n; i += 2) {
        acc = __smlald((int32_t)wn_read32(w + i), (int32_t)wn_read32(x + i), acc);
    }
    for (; i < n; ++i) {
        acc += (int32_t)w[i] * (int32_t)x[i];
    }
    return acc;
}
#endif

#ifndef WN_HAVE_DOT_S8S16
#define WN_HAVE_DOT_S8S16
static inline int64_t wn_dot_s8s16(const int8_t *w, const int16_t *x, int32_t n)
{
    int64_t acc = 0;
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t wv = (int32_t)wn_read32(w + i);
        const int32_t w02 = __sxtb16(wv), w13 = wn_sxtb16_ror8(wv);
        acc = __smlald(wn_pkhbt16(w02, w13), (int32_t)wn_read32(x + i), acc);     /* w0*x0 + w1*x1 */
        acc = __smlald(wn_pkhtb16(w13, w02), (int32_t)wn_read32(x + i + 2), acc); /* w2*x2 + w3*x3 */
    }
    for (; i < n; ++i) {
        acc += (int32_t)w[i] * (int32_t)x[i];
    }
    return acc;
}
#endif

#endif
