/* Dot products of the integer kernels: a weight row against an activation vector.
 * Exact integer sums, so any ISA may reorder them; optimized versions replace these. */
#ifndef WN_DOT_H
#define WN_DOT_H

#include <stdint.h>

static inline int32_t wn_dot_s8(const int8_t *w, const int8_t *x, int32_t n)
{
    int32_t acc = 0, i;
    for (i = 0; i < n; ++i) {
        acc += (int32_t)w[i] * (int32_t)x[i];
    }
    return acc;
}

/* int4 weights packed two per byte (element j: byte j / 2, low nibble when j is even),
 * starting at element `first` */
static inline int32_t wn_dot_s4(const uint8_t *w, int32_t first, const int8_t *x, int32_t n)
{
    int32_t acc = 0, i;
    for (i = 0; i < n; ++i) {
        const int32_t j = first + i;
        const int32_t nibble = (j & 1) ? (w[j >> 1] >> 4) : (w[j >> 1] & 0xF);
        acc += ((nibble ^ 8) - 8) * (int32_t)x[i];
    }
    return acc;
}

static inline int64_t wn_dot_s16(const int16_t *w, const int16_t *x, int32_t n)
{
    int64_t acc = 0;
    int32_t i;
    for (i = 0; i < n; ++i) {
        acc += (int32_t)w[i] * (int32_t)x[i];
    }
    return acc;
}

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
