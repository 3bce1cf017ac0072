/* avx2: the dot products of the integer kernels for this ISA (the project's wn_dot_isa.h includes
 * this for the target; runtime_c/ref/wn_dot.h then skips its portable loops for the dot
 * products defined here; the kernels themselves are the reference ones).
 * Integer sums are exact, so the results equal the reference bit for bit. */
#ifndef WN_DOT_AVX2_H
#define WN_DOT_AVX2_H

#include <immintrin.h>
#include <stdint.h>

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

#endif
