/* Integer convolutions, int8 weights, int8 activations, int32 accumulator: x86-64 AVX2 (-mavx2).
 * Same functions and arithmetic as runtime_c/ref/wn_conv_s8.c; only the dot product differs:
 * VPMOVSXBW widens 16 int8 values to int16, VPMADDWD multiplies int16 pairs and adds each two
 * products into an int32 lane. VPMADDUBSW is not used: it saturates pairwise int16 sums (and
 * wants one unsigned operand). VPMADDWD saturates only for -32768*-32768 twice, impossible for
 * int8 inputs. Integer sums are exact, so the result equals the reference bit for bit. */
#include <immintrin.h>

#include "wn_runtime.h"
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

static inline int32_t wn_dot_s8_avx2(const int8_t *w, const int8_t *x, int32_t n)
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
        const int32_t acc = bias[o] + wn_dot_s8_avx2(wrow, x, cin);
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
            acc += wn_dot_s8_avx2(wrow + (size_t)k * (size_t)cin, ring + (size_t)row * (size_t)cin, cin);
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
            const int32_t acc = bias[o] + wn_dot_s8_avx2(wrow, x, cin);
            table[(size_t)p * (size_t)cout + (size_t)o] = wn_out_s8(acc, mult[o], shift[o], zp_out);
        }
    }
}
