/* avx512_vnni: the dot products of the integer kernels for this ISA (the project's wn_dot_isa.h
 * includes this for the target, before runtime_c/avx2's, which provides the families not defined
 * here; runtime_c/ref/wn_dot.h then skips its portable loops for the dot products defined here;
 * the kernels themselves are the reference ones).
 * Integer sums are exact, so the results equal the reference bit for bit.
 *
 * VPDPBUSD (_mm512_dpbusd_epi32) multiplies 4 unsigned bytes of one operand by the 4 signed bytes
 * of the other and adds the 4 products to an int32 lane WITHOUT saturation: the products are
 * exact (at most 255 * 128 in magnitude) and the lane sum is taken modulo 2^32. Its saturating
 * sibling VPDPBUSDS would be wrong here: a biased lane passes 2^31 while the true sum is small
 * (s8: w = 127, x = +-127 alternating, after about 2.1 million elements). PMADDUBSW is not used
 * either. Both operands here are signed, so one is biased
 * into the unsigned range and the bias is taken off again with a second VPDPBUSD against a
 * constant, in a second accumulator:
 *
 *   s8:  x + 128 (= x ^ 0x80, 0..255) times w, minus 128 * w (the constant 0x80 times w)
 *   s4:  w + 8 (= nibble ^ 8, 0..15) times x, minus 8 * x (the constant 8 times x)
 *
 * Bound: every lane operation (VPDPBUSD, VPSUBD, VPADDD, the horizontal sum) is exact modulo
 * 2^32, so the result is congruent to the true sum of w[i] * x[i] modulo 2^32, and the int32 read
 * back is the true sum whenever that sum fits in an int32. The reference's own int32 sum is
 * defined only then (no partial sum, the last included, may leave the int32 range: |w * x| <=
 * 2^14 for s8, so any n <= 131071 = 2^17 - 1; 2^10 for s4, n < 2^21), so the two agree on every
 * input the reference is defined for; past that the result is the sum wrapped to 32 bits. No
 * scalar C arithmetic can overflow (the odd first s4 element goes into a vector lane too).
 *
 * Tails: the last n % 64 elements are one masked step (AVX-512BW byte masks: the masked-off bytes
 * load as zero and are not read, so nothing past the end is touched): zero activations make the
 * bias terms of s4 vanish; zero weights those of s8. */
#ifndef WN_DOT_AVX512_VNNI_H
#define WN_DOT_AVX512_VNNI_H

#include <immintrin.h>
#include <stdint.h>

#include "wn_requant.h"

#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) \
    || !defined(__AVX512VNNI__)
#error "runtime_c/avx512_vnni needs AVX-512 F, BW, VL, VNNI (-mavx512f -mavx512bw -mavx512vl -mavx512vnni)"
#endif

/* the 16 int32 lanes summed modulo 2^32 (vector adds: no signed overflow in C) */
static inline int32_t wn_avx512_sum_epi32(__m512i v)
{
    const __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(v),
                                       _mm512_extracti64x4_epi64(v, 1));
    __m128i q = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    q = _mm_add_epi32(q, _mm_shuffle_epi32(q, _MM_SHUFFLE(1, 0, 3, 2)));
    q = _mm_add_epi32(q, _mm_shuffle_epi32(q, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(q);
}

/* the low r bits set, 0 < r < 64 */
static inline __mmask64 wn_avx512_mask64(int32_t r)
{
    return (__mmask64)(~(uint64_t)0 >> (64 - r));
}

#ifndef WN_HAVE_DOT_S8
#define WN_HAVE_DOT_S8
/* acc gains sum (x + 128) * w, accw gains sum 128 * w (per step at most 4 * 255 * 128 and
 * 4 * 128 * 128 in magnitude; both modulo 2^32): acc - accw = sum x * w modulo 2^32. */
static inline int32_t wn_dot_s8(const int8_t *w, const int8_t *x, int32_t n)
{
    const __m512i bias = _mm512_set1_epi8(-128); /* 0x80: x ^ 0x80 is x + 128 as unsigned */
    __m512i acc = _mm512_setzero_si512(), accw = _mm512_setzero_si512();
    int32_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512i wv = _mm512_loadu_si512((const void *)(w + i));
        const __m512i xu = _mm512_xor_si512(_mm512_loadu_si512((const void *)(x + i)), bias);
        acc = _mm512_dpbusd_epi32(acc, xu, wv);
        accw = _mm512_dpbusd_epi32(accw, bias, wv);
    }
    if (i < n) { /* 1..63 left: masked-off weights load as 0, adding 0 to acc and accw */
        const __mmask64 m = wn_avx512_mask64(n - i);
        const __m512i wv = _mm512_maskz_loadu_epi8(m, w + i);
        const __m512i xu = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x + i), bias);
        acc = _mm512_dpbusd_epi32(acc, xu, wv);
        accw = _mm512_dpbusd_epi32(accw, bias, wv);
    }
    return wn_avx512_sum_epi32(_mm512_sub_epi32(acc, accw));
}
#endif

#ifndef WN_HAVE_DOT4_S8
#define WN_HAVE_DOT4_S8
/* four rows against one x, the operands the other way round: the weights are the biased ones,
 * w ^ 0x80 = w + 128 (0..255), against the signed activations, so the bias term, sum 128 * x,
 * is the same for the four rows and made once (accx). Each row gains sum (w + 128) * x, and
 * row - accx = sum w * x modulo 2^32, as in wn_dot_s8. The tail's masked-off bytes load as 0:
 * their activations are 0, so they add nothing to a row (128 * 0) or to accx. The rows' lanes
 * stay apart until one transposed reduction (two horizontal-add levels) at the end. */
static inline void wn_dot4_s8(const int8_t *w0, const int8_t *w1, const int8_t *w2,
                              const int8_t *w3, const int8_t *x, int32_t n, int32_t acc[4])
{
    const __m512i bias = _mm512_set1_epi8(-128);
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, accx = a0, xv;
    __m256i h0, h1, h2, h3, s;
    __m128i sum;
    __mmask64 m = ~(__mmask64)0;
    int32_t i = 0;
    for (; i < n; i += 64) {
        if (n - i < 64) { /* 1..63 left */
            m = wn_avx512_mask64(n - i);
        }
        xv = _mm512_maskz_loadu_epi8(m, x + i);
        accx = _mm512_dpbusd_epi32(accx, bias, xv);
#define WN_ROW_STEP(a, w) \
    a = _mm512_dpbusd_epi32(a, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, (w) + i), bias), xv)
        WN_ROW_STEP(a0, w0);
        WN_ROW_STEP(a1, w1);
        WN_ROW_STEP(a2, w2);
        WN_ROW_STEP(a3, w3);
#undef WN_ROW_STEP
    }
#define WN_HALVES(a) _mm256_add_epi32(_mm512_castsi512_si256(_mm512_sub_epi32(a, accx)), \
                                      _mm512_extracti64x4_epi64(_mm512_sub_epi32(a, accx), 1))
    h0 = WN_HALVES(a0);
    h1 = WN_HALVES(a1);
    h2 = WN_HALVES(a2);
    h3 = WN_HALVES(a3);
#undef WN_HALVES
    s = _mm256_hadd_epi32(_mm256_hadd_epi32(h0, h1), _mm256_hadd_epi32(h2, h3));
    sum = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    _mm_storeu_si128((__m128i *)acc, _mm_add_epi32(_mm_loadu_si128((const __m128i *)acc), sum));
}
#endif

#ifndef WN_HAVE_DOT_S4
#define WN_HAVE_DOT_S4
/* Element order: 32 weight bytes zero-extended to 16-bit lanes (0x00HL: L the even element, H
 * the odd one); b | b << 4 is 0xHHLL... masked to the low nibble of each byte it is 0x0H0L, the
 * nibbles in element order, and nibble ^ 8 is w + 8 (wn_s4_at's (nibble ^ 8) - 8), 0..15: the
 * unsigned operand of VPDPBUSD against the signed activations (mask and xor are one VPTERNLOGD:
 * (a & b) ^ c is 0x6A). acc gains sum (w + 8) * x, accx sum 8 * x (per step at most 4 * 15 * 128
 * and 4 * 8 * 128 in magnitude; modulo 2^32): acc - accx = sum w * x.
 * An odd `first` starts with its high nibble alone, put in lane 0 of acc; the tail's masked-off
 * activations are 0, so the garbage high nibble of a last half-used byte adds nothing. */
static inline __m512i wn_avx512_s4_plus8(__m512i b, __m512i low4, __m512i eight)
{
    return _mm512_ternarylogic_epi32(_mm512_or_si512(b, _mm512_slli_epi16(b, 4)), low4, eight,
                                     0x6A);
}

static inline int32_t wn_dot_s4(const uint8_t *w, int32_t first, const int8_t *x, int32_t n)
{
    const __m512i low4 = _mm512_set1_epi8(0x0F), eight = _mm512_set1_epi8(8);
    __m512i acc = _mm512_setzero_si512(), accx = _mm512_setzero_si512();
    int32_t i = 0, j;
    const uint8_t *wb;
    if ((first & 1) && n > 0) { /* an odd start: its high nibble, then whole bytes */
        acc = _mm512_maskz_set1_epi32(1, wn_s4_at(w, first) * (int32_t)x[0]);
        i = 1;
    }
    wb = w + ((first + i) >> 1); /* byte j holds the elements i + 2j and i + 2j + 1 */
    x += i;
    n -= i;
    for (j = 0; 2 * j + 64 <= n; j += 32) {
        const __m512i b = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(wb + j)));
        const __m512i xv = _mm512_loadu_si512((const void *)(x + 2 * j));
        acc = _mm512_dpbusd_epi32(acc, wn_avx512_s4_plus8(b, low4, eight), xv);
        accx = _mm512_dpbusd_epi32(accx, eight, xv);
    }
    if (2 * j < n) { /* 1..63 left, in (r + 1) / 2 bytes */
        const int32_t r = n - 2 * j;
        const __mmask32 mb = (__mmask32)(~(uint32_t)0 >> (32 - ((r + 1) >> 1)));
        const __m512i b = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(mb, wb + j));
        const __m512i xv = _mm512_maskz_loadu_epi8(wn_avx512_mask64(r), x + 2 * j);
        acc = _mm512_dpbusd_epi32(acc, wn_avx512_s4_plus8(b, low4, eight), xv);
        accx = _mm512_dpbusd_epi32(accx, eight, xv);
    }
    return wn_avx512_sum_epi32(_mm512_sub_epi32(acc, accx));
}
#endif


/* ---- the bulk of the int8 add and gate, 16 elements in the int32 lanes of a zmm ---- */
#ifndef WN_HAVE_ELTWISE_S8
#define WN_HAVE_ELTWISE_S8

/* wn_requant (single rounding) of 16 lanes by one multiplier and shift: in 64-bit lanes, even
 * and odd lanes apart, sat32(floor((v * mult + 2^(30 - shift)) / 2^(31 - shift))) */
static inline __m512i wn_avx512_requant16(__m512i v, int32_t mult, int32_t shift)
{
    const __m512i m = _mm512_set1_epi64(mult), round = _mm512_set1_epi64((int64_t)1 << (30 - shift));
    const __m512i lo = _mm512_set1_epi64(INT32_MIN), hi = _mm512_set1_epi64(INT32_MAX);
    const __m128i count = _mm_cvtsi32_si128(31 - shift);
    const __m512i e = _mm512_sra_epi64(_mm512_add_epi64(_mm512_mul_epi32(v, m), round), count);
    const __m512i o = _mm512_sra_epi64(
        _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(v, 32), m), round), count);
    return _mm512_mask_blend_epi32((__mmask16)0xAAAA, _mm512_min_epi64(_mm512_max_epi64(e, lo), hi),
                                   _mm512_slli_epi64(_mm512_min_epi64(_mm512_max_epi64(o, lo), hi),
                                                     32));
}

/* wn_clamp_zp(v, zp, -128, 127) of 16 lanes, as int8 */
static inline __m128i wn_avx512_out8(__m512i v, int32_t zp)
{
    const __m512i z = _mm512_set1_epi32(zp);
    return _mm512_cvtepi32_epi8(_mm512_add_epi32(
        _mm512_min_epi32(_mm512_max_epi32(v, _mm512_set1_epi32(-128 - zp)),
                         _mm512_set1_epi32(127 - zp)), z));
}

/* wn_add_s8 of the first n - n % 16 elements (single rounding; double rounding: none) */
static inline int32_t wn_add_bulk_s8(int8_t *y, const int8_t *a, const int8_t *b, int32_t n,
                                     const wn_add_q *q)
{
    const __m128i left = _mm_cvtsi32_si128(q->left_shift);
    const __m512i zpa = _mm512_set1_epi32(q->zp_a), zpb = _mm512_set1_epi32(q->zp_b);
    int32_t i = 0;
    if (!WN_SINGLE_ROUNDING || !wn_apart(y, a, n) || !wn_apart(y, b, n)) {
        return 0;
    }
    for (; i + 16 <= n; i += 16) {
        const __m512i av = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(a + i)));
        const __m512i bv = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b + i)));
        const __m512i sum = _mm512_add_epi32(
            wn_avx512_requant16(_mm512_sll_epi32(_mm512_sub_epi32(av, zpa), left), q->a_mult,
                                q->a_shift),
            wn_avx512_requant16(_mm512_sll_epi32(_mm512_sub_epi32(bv, zpb), left), q->b_mult,
                                q->b_shift));
        _mm_storeu_si128((__m128i *)(y + i),
                         wn_avx512_out8(wn_avx512_requant16(sum, q->out_mult, q->out_shift),
                                        q->zp_out));
    }
    return i;
}

/* wn_gate_s8 of the first half - half % 16 elements: the table lookups one by one, the
 * product and its requantization in vector lanes (single rounding; double rounding: none) */
static inline int32_t wn_gate_bulk_s8(int8_t *y, const int8_t *a, int32_t half, int32_t tanh_at,
                                      int32_t sigmoid_at, const wn_lut8 *lut_tanh,
                                      const wn_lut8 *lut_sigmoid, const wn_mul_q *q)
{
    int32_t t[16], s[16], i = 0, j;
    if (!WN_SINGLE_ROUNDING || !wn_apart(y, a + tanh_at, half) ||
        !wn_apart(y, a + sigmoid_at, half)) {
        return 0;
    }
    for (; i + 16 <= half; i += 16) {
        for (j = 0; j < 16; ++j) {
            t[j] = wn_lut8_at(lut_tanh, a[tanh_at + i + j]);
            s[j] = wn_lut8_at(lut_sigmoid, a[sigmoid_at + i + j]);
        }
        _mm_storeu_si128((__m128i *)(y + i), wn_avx512_out8(wn_avx512_requant16(
            _mm512_mullo_epi32(_mm512_sub_epi32(_mm512_loadu_si512((const void *)t),
                                                _mm512_set1_epi32(q->zp_a)),
                               _mm512_sub_epi32(_mm512_loadu_si512((const void *)s),
                                                _mm512_set1_epi32(q->zp_b))),
            q->mult, q->shift), q->zp_out));
    }
    return i;
}
#endif

#endif
