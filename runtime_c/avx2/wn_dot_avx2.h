/* avx2: the dot products of the integer kernels for this ISA (the project's wn_dot_isa.h includes
 * this for the target; runtime_c/ref/wn_dot.h then skips its portable loops for the dot
 * products defined here; the kernels themselves are the reference ones).
 * Integer sums are exact, so the results equal the reference bit for bit. */
#ifndef WN_DOT_AVX2_H
#define WN_DOT_AVX2_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "wn_requant.h"

#if !defined(__AVX2__)
#error "runtime_c/avx2 needs AVX2 (-mavx2 or -march=haswell and later)"
#endif


static inline int32_t wn_sum_epi32(__m128i v)
{
    v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(v);
}

#ifndef WN_HAVE_DOT_S8
#define WN_HAVE_DOT_S8
static inline int32_t wn_dot_s8(const int8_t *w, const int8_t *x, int32_t n)
{
    __m256i acc8 = _mm256_setzero_si256();
    __m128i acc4;
    int32_t acc, i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i wv = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + i)));
        const __m256i xv = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(x + i)));
        acc8 = _mm256_add_epi32(acc8, _mm256_madd_epi16(wv, xv));
    }
    acc4 = _mm_add_epi32(_mm256_castsi256_si128(acc8), _mm256_extracti128_si256(acc8, 1));
    if (i + 8 <= n) {
        const __m128i wv = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(w + i)));
        const __m128i xv = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(x + i)));
        acc4 = _mm_add_epi32(acc4, _mm_madd_epi16(wv, xv));
        i += 8;
    }
    acc = wn_sum_epi32(acc4);
    for (; i < n; ++i) {
        acc += (int32_t)w[i] * (int32_t)x[i];
    }
    return acc;
}
#endif

/* the four int32 sums of a0..a3's lanes as one vector (lane r: row r), modulo 2^32: pairwise
 * horizontal adds, then the two 128-bit halves */
static inline __m128i wn_sum4_epi32(__m256i a0, __m256i a1, __m256i a2, __m256i a3)
{
    const __m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
    return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

/* acc[0..3] += v, modulo 2^32 (a vector add: no signed overflow in C) */
static inline void wn_add4_epi32(int32_t acc[4], __m128i v)
{
    _mm_storeu_si128((__m128i *)acc, _mm_add_epi32(_mm_loadu_si128((const __m128i *)acc), v));
}

#ifndef WN_HAVE_DOT4_S8
#define WN_HAVE_DOT4_S8
/* four rows against one x: each 16 elements of x are sign-extended once for the four rows, the
 * rows' int32 lanes stay apart until one transposed reduction at the end */
static inline void wn_dot4_s8(const int8_t *w0, const int8_t *w1, const int8_t *w2,
                              const int8_t *w3, const int8_t *x, int32_t n, int32_t acc[4])
{
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    int32_t t0 = 0, t1 = 0, t2 = 0, t3 = 0, i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i xv = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(x + i)));
#define WN_ROW_STEP(a, w) \
    a = _mm256_add_epi32(a, _mm256_madd_epi16( \
        _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)((w) + i))), xv))
        WN_ROW_STEP(a0, w0);
        WN_ROW_STEP(a1, w1);
        WN_ROW_STEP(a2, w2);
        WN_ROW_STEP(a3, w3);
#undef WN_ROW_STEP
    }
    for (; i < n; ++i) { /* the last n % 16, each row's sum on its own as in wn_dot_s8 */
        t0 += (int32_t)w0[i] * (int32_t)x[i];
        t1 += (int32_t)w1[i] * (int32_t)x[i];
        t2 += (int32_t)w2[i] * (int32_t)x[i];
        t3 += (int32_t)w3[i] * (int32_t)x[i];
    }
    wn_add4_epi32(acc, _mm_add_epi32(wn_sum4_epi32(a0, a1, a2, a3),
                                     _mm_setr_epi32(t0, t1, t2, t3)));
}
#endif

#ifndef WN_HAVE_RQ_OUT8X4
#define WN_HAVE_RQ_OUT8X4
/* wn_rq_out8 of four accumulators in vector lanes, when every shift of the four is <= -1 under
 * single rounding (a multiplier below 1, as almost every layer has): wn_requant's path without
 * saturation, the high word of acc * mult + 2^(30 - shift) shifted right by -1 - shift, in
 * 64-bit lanes (VPMULDQ of the sign-extended values is the exact product); then wn_clamp_zp.
 * Any other case (a shift >= 0, double rounding) takes the scalar wn_rq_out8. */
static inline void wn_rq_out8x4(int8_t *y, const int32_t acc[4], const wn_rq *q, int32_t o)
{
    int32_t r;
#if WN_SINGLE_ROUNDING
    __m128i mult, shift;
    if (q->per_channel) {
        int32_t s4;
        memcpy(&s4, q->shift + o, sizeof s4);
        mult = _mm_loadu_si128((const __m128i *)(q->mult + o));
        shift = _mm_cvtepi8_epi32(_mm_cvtsi32_si128(s4));
    } else {
        mult = _mm_set1_epi32(q->mult[0]);
        shift = _mm_set1_epi32(q->shift[0]);
    }
    if (_mm_movemask_epi8(_mm_cmpgt_epi32(shift, _mm_set1_epi32(-1))) == 0) {
        const __m256i prod = _mm256_mul_epi32(
            _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)acc)),
            _mm256_cvtepi32_epi64(mult));
        const __m256i round = _mm256_sllv_epi64(
            _mm256_set1_epi64x(1), _mm256_cvtepi32_epi64(_mm_sub_epi32(_mm_set1_epi32(30), shift)));
        const __m256i high = _mm256_permutevar8x32_epi32(_mm256_add_epi64(prod, round),
                                                         _mm256_setr_epi32(1, 3, 5, 7, 1, 3, 5, 7));
        const __m128i res = _mm_srav_epi32(_mm256_castsi256_si128(high),
                                           _mm_sub_epi32(_mm_set1_epi32(-1), shift));
        const __m128i zp = _mm_set1_epi32(q->zp_out);
        const __m128i out = _mm_add_epi32(
            _mm_min_epi32(_mm_max_epi32(res, _mm_sub_epi32(_mm_set1_epi32(-128), zp)),
                          _mm_sub_epi32(_mm_set1_epi32(127), zp)), zp);
        const int32_t bytes = _mm_cvtsi128_si32(_mm_packs_epi16(_mm_packs_epi32(out, out), out));
        memcpy(y, &bytes, sizeof bytes);
        return;
    }
#endif
    for (r = 0; r < 4; ++r) {
        y[r] = (int8_t)wn_rq_out8(acc[r], q, o + r);
    }
}
#endif

#ifndef WN_HAVE_DOT_S8S16
#define WN_HAVE_DOT_S8S16
static inline int64_t wn_dot_s8s16(const int8_t *w, const int16_t *x, int32_t n)
{
    __m256i acc4 = _mm256_setzero_si256();
    __m128i acc2;
    int64_t acc;
    int32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i wv = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + i)));
        const __m256i p = _mm256_madd_epi16(wv, _mm256_loadu_si256((const __m256i *)(x + i)));
        acc4 = _mm256_add_epi64(acc4, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(p)));
        acc4 = _mm256_add_epi64(acc4, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(p, 1)));
    }
    acc2 = _mm_add_epi64(_mm256_castsi256_si128(acc4), _mm256_extracti128_si256(acc4, 1));
    acc = _mm_cvtsi128_si64(acc2) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(acc2, acc2));
    for (; i < n; ++i) {
        acc += (int32_t)w[i] * (int32_t)x[i];
    }
    return acc;
}
#endif

#ifndef WN_HAVE_DOT_S4
#define WN_HAVE_DOT_S4
/* Weight bytes zero-extended to 16-bit lanes (0x00HL: L the even element, H the odd one);
 * b | b << 4, masked to the low nibble of each byte, is 0x0H0L: the nibbles in element order, and
 * PSHUFB looks up their values (wn_s4_at's (nibble ^ 8) - 8). VPMADDUBSW multiplies unsigned by
 * signed bytes and saturates its pair sums to int16: |x| (0..128) times w carrying x's sign
 * (-8..8) is w * x, and a pair is at most 2 * 8 * 128 = 2048, so it never saturates.
 * VPMADDWD by ones then widens the pairs into the int32 lanes the reference's sum fits in. */
static inline int32_t wn_dot_s4(const uint8_t *w, int32_t first, const int8_t *x, int32_t n)
{
    const __m256i lut = _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1,
                                         0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1);
    const __m256i low4 = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
    __m256i acc8 = _mm256_setzero_si256();
    __m128i acc4;
    int32_t acc = 0, i = 0;
    const uint8_t *wb;
    if ((first & 1) && n > 0) { /* an odd start: its high nibble, then whole bytes */
        acc = wn_s4_at(w, first) * (int32_t)x[0];
        i = 1;
    }
    wb = w + ((first + i) >> 1);
    for (; i + 32 <= n; i += 32, wb += 16) {
        const __m256i b = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)wb));
        const __m256i nib = _mm256_and_si256(_mm256_or_si256(b, _mm256_slli_epi16(b, 4)), low4);
        const __m256i wv = _mm256_shuffle_epi8(lut, nib);
        const __m256i xv = _mm256_loadu_si256((const __m256i *)(x + i));
        const __m256i p = _mm256_maddubs_epi16(_mm256_abs_epi8(xv), _mm256_sign_epi8(wv, xv));
        acc8 = _mm256_add_epi32(acc8, _mm256_madd_epi16(p, ones));
    }
    acc4 = _mm_add_epi32(_mm256_castsi256_si128(acc8), _mm256_extracti128_si256(acc8, 1));
    if (i + 16 <= n) {
        const __m128i b = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)wb));
        const __m128i nib = _mm_and_si128(_mm_or_si128(b, _mm_slli_epi16(b, 4)),
                                          _mm256_castsi256_si128(low4));
        const __m128i wv = _mm_shuffle_epi8(_mm256_castsi256_si128(lut), nib);
        const __m128i xv = _mm_loadu_si128((const __m128i *)(x + i));
        const __m128i p = _mm_maddubs_epi16(_mm_abs_epi8(xv), _mm_sign_epi8(wv, xv));
        acc4 = _mm_add_epi32(acc4, _mm_madd_epi16(p, _mm256_castsi256_si128(ones)));
        i += 16;
    }
    acc += wn_sum_epi32(acc4);
    return acc + wn_dot_s4_span(w, first, x, i, n);
}
#endif

#ifndef WN_HAVE_DOT_S16
#define WN_HAVE_DOT_S16
/* VPMADDWD sums a pair of 16 x 16 products into an int32 lane; the pair sum s lies in
 * [-2^31 + 2^16, 2^31] and wraps only at 2^31 (all four values -32768, which the symmetric
 * weights never hold but the type allows). s + (2^31 - 2^16), computed mod 2^32, lies in
 * [0, 2^32 - 2^16]: read as unsigned it is exact, so the even and odd int32 lanes are
 * zero-extended into int64 lanes (a mask and a shift, no lane crossing) and the bias is taken
 * off once at the end, 2^31 - 2^16 per pair. Exact for every int16 input and any length (a lane
 * gains less than 2^32 per step). */
static inline int64_t wn_dot_s16(const int16_t *w, const int16_t *x, int32_t n)
{
    const __m256i bias = _mm256_set1_epi32(0x7FFF0000), low32 = _mm256_set1_epi64x(0xFFFFFFFF);
    __m256i acc4 = _mm256_setzero_si256();
    __m128i acc2;
    int64_t acc;
    int32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i wv = _mm256_loadu_si256((const __m256i *)(w + i));
        const __m256i xv = _mm256_loadu_si256((const __m256i *)(x + i));
        const __m256i s = _mm256_add_epi32(_mm256_madd_epi16(wv, xv), bias);
        acc4 = _mm256_add_epi64(acc4, _mm256_and_si256(s, low32));
        acc4 = _mm256_add_epi64(acc4, _mm256_srli_epi64(s, 32));
    }
    acc2 = _mm_add_epi64(_mm256_castsi256_si128(acc4), _mm256_extracti128_si256(acc4, 1));
    if (i + 8 <= n) {
        const __m128i wv = _mm_loadu_si128((const __m128i *)(w + i));
        const __m128i xv = _mm_loadu_si128((const __m128i *)(x + i));
        const __m128i s = _mm_add_epi32(_mm_madd_epi16(wv, xv), _mm256_castsi256_si128(bias));
        acc2 = _mm_add_epi64(acc2, _mm_and_si128(s, _mm256_castsi256_si128(low32)));
        acc2 = _mm_add_epi64(acc2, _mm_srli_epi64(s, 32));
        i += 8;
    }
    acc = _mm_cvtsi128_si64(acc2) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(acc2, acc2));
    acc -= (int64_t)(i / 2) * 0x7FFF0000; /* the bias of the i / 2 pairs above */
    for (; i < n; ++i) {
        acc += (int32_t)w[i] * (int32_t)x[i];
    }
    return acc;
}
#endif

#endif
