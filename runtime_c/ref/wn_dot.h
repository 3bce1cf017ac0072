/* Dot products of the integer kernels: a weight row against an activation vector, and the
 * other vector hooks of the integer kernels (requantization of four channels, the bulk of the
 * int8 add and gate). Exact integer arithmetic, so any ISA may reorder the sums. A target's kernel folder (runtime_c/dsp,
 * mve, neon, neon_dotprod, avx2, avx512_vnni) provides wn_dot_isa.h with faster versions of some
 * of them (defining WN_HAVE_DOT_S8 and so on); the portable loops below serve for the rest. */
#ifndef WN_DOT_H
#define WN_DOT_H

#include <stdint.h>

#include "wn_requant.h"

/* element j of int4 values packed two per byte: byte j / 2, low nibble when j is even
 * (before the ISA headers, whose odd starts and tails use it) */
static inline int32_t wn_s4_at(const uint8_t *w, int32_t j)
{
    const int32_t nibble = (j & 1) ? (w[j >> 1] >> 4) : (w[j >> 1] & 0xF);
    return (nibble ^ 8) - 8;
}

/* int4 weights first + from .. first + to - 1 against x[from .. to - 1], one at a time: the
 * portable dot product, and the tail of the ISA versions */
static inline int32_t wn_dot_s4_span(const uint8_t *w, int32_t first, const int8_t *x,
                                     int32_t from, int32_t to)
{
    int32_t acc = 0, i;
    for (i = from; i < to; ++i) {
        acc += wn_s4_at(w, first + i) * (int32_t)x[i];
    }
    return acc;
}

/* y[0..n) and x[0..n) are the same or apart: an ISA's bulk of an elementwise kernel may then
 * work in any order (a partial overlap is left to the kernel's own loop, whose element order it
 * depends on) */
static inline int wn_apart(const int8_t *y, const int8_t *x, int32_t n)
{
    const uintptr_t a = (uintptr_t)y, b = (uintptr_t)x;
    return a == b || a + (uintptr_t)n <= b || b + (uintptr_t)n <= a;
}

#include <wn_dot_isa.h> /* from the include path: the target's, or ref's empty one */

#ifndef WN_HAVE_DOT_S8
static inline int32_t wn_dot_s8(const int8_t *w, const int8_t *x, int32_t n)
{
    int32_t acc = 0, i;
    for (i = 0; i < n; ++i) {
        acc += (int32_t)w[i] * (int32_t)x[i];
    }
    return acc;
}
#endif

#ifndef WN_HAVE_DOT2_S8
/* two weight rows against the same x, added to *acc0 and *acc1 */
static inline void wn_dot2_s8(const int8_t *w0, const int8_t *w1, const int8_t *x, int32_t n,
                              int32_t *acc0, int32_t *acc1)
{
    *acc0 += wn_dot_s8(w0, x, n);
    *acc1 += wn_dot_s8(w1, x, n);
}
#endif

#ifndef WN_HAVE_DOT4_S8
/* four weight rows against the same x, added to acc[0..3] (x86 shares every load of x between
 * the rows and sums the four accumulators in one transposed reduction) */
static inline void wn_dot4_s8(const int8_t *w0, const int8_t *w1, const int8_t *w2,
                              const int8_t *w3, const int8_t *x, int32_t n, int32_t acc[4])
{
    wn_dot2_s8(w0, w1, x, n, &acc[0], &acc[1]);
    wn_dot2_s8(w2, w3, x, n, &acc[2], &acc[3]);
}
#endif

#ifndef WN_HAVE_DOT_S4
/* int4 weights from element `first` */
static inline int32_t wn_dot_s4(const uint8_t *w, int32_t first, const int8_t *x, int32_t n)
{
    return wn_dot_s4_span(w, first, x, 0, n);
}
#endif

#ifndef WN_HAVE_DOT_S16
static inline int64_t wn_dot_s16(const int16_t *w, const int16_t *x, int32_t n)
{
    int64_t acc = 0;
    int32_t i;
    for (i = 0; i < n; ++i) {
        acc += (int32_t)w[i] * (int32_t)x[i];
    }
    return acc;
}
#endif

#ifndef WN_HAVE_DOT_S8S16
static inline int64_t wn_dot_s8s16(const int8_t *w, const int16_t *x, int32_t n)
{
    int64_t acc = 0;
    int32_t i;
    for (i = 0; i < n; ++i) {
        acc += (int32_t)w[i] * (int32_t)x[i];
    }
    return acc;
}
#endif

#ifndef WN_HAVE_RQ_OUT8X4
/* y[0..3] = wn_rq_out8 of acc[0..3] for the output channels o..o+3 (x86 requantizes the four
 * in vector lanes) */
static inline void wn_rq_out8x4(int8_t *y, const int32_t acc[4], const wn_rq *q, int32_t o)
{
    int32_t r;
    for (r = 0; r < 4; ++r) {
        y[r] = (int8_t)wn_rq_out8(acc[r], q, o + r);
    }
}
#endif

/* y[0..3] = wn_rq_out16 of acc[0..3] for the output channels o..o+3 */
static inline void wn_rq_out16x4(int16_t *y, const int64_t acc[4], const wn_rq *q, int32_t o)
{
    int32_t r;
    for (r = 0; r < 4; ++r) {
        y[r] = (int16_t)wn_rq_out16(acc[r], q, o + r);
    }
}

#ifndef WN_HAVE_ELTWISE_S8
/* the bulk of wn_add_s8 and wn_gate_s8: how many leading elements the ISA computed (x86:
 * multiples of 16 in vector lanes); the kernel's own loop does the rest. Portable: none. */
static inline int32_t wn_add_bulk_s8(int8_t *y, const int8_t *a, const int8_t *b, int32_t n,
                                     const wn_add_q *q)
{
    (void)y, (void)a, (void)b, (void)n, (void)q;
    return 0;
}

static inline int32_t wn_gate_bulk_s8(int8_t *y, const int8_t *a, int32_t half, int32_t tanh_at,
                                      int32_t sigmoid_at, const wn_lut8 *lut_tanh,
                                      const wn_lut8 *lut_sigmoid, const wn_mul_q *q)
{
    (void)y, (void)a, (void)half, (void)tanh_at, (void)sigmoid_at, (void)lut_tanh;
    (void)lut_sigmoid, (void)q;
    return 0;
}
#endif

#endif
