/* Ring buffer step for sparse convolutions: push x as the newest row, then copy the kernel taps
 * (oldest first) into one contiguous vector xcat[kernel * cin] for the sparse product. */
#include "wn_runtime.h"

void wn_ring_gather_f32(float *xcat, float *ring, int32_t *pos, const float *x, int32_t cin,
                         int32_t kernel, int32_t dilation, int32_t ring_len)
{
    int32_t p = *pos + 1, i, k;
    float *slot;
    if (p == ring_len) {
        p = 0;
    }
    *pos = p;
    slot = ring + (size_t)p * (size_t)cin;
    for (i = 0; i < cin; ++i) {
        slot[i] = x[i];
    }
    for (k = 0; k < kernel; ++k) {
        int32_t row = p - (kernel - 1 - k) * dilation;
        const float *tap;
        if (row < 0) {
            row += ring_len;
        }
        tap = ring + (size_t)row * (size_t)cin;
        for (i = 0; i < cin; ++i) {
            xcat[k * cin + i] = tap[i];
        }
    }
}

void wn_ring_gather_s8(int8_t *xcat, int8_t *ring, int32_t *pos, const int8_t *x, int32_t cin,
                         int32_t kernel, int32_t dilation, int32_t ring_len)
{
    int32_t p = *pos + 1, i, k;
    int8_t *slot;
    if (p == ring_len) {
        p = 0;
    }
    *pos = p;
    slot = ring + (size_t)p * (size_t)cin;
    for (i = 0; i < cin; ++i) {
        slot[i] = x[i];
    }
    for (k = 0; k < kernel; ++k) {
        int32_t row = p - (kernel - 1 - k) * dilation;
        const int8_t *tap;
        if (row < 0) {
            row += ring_len;
        }
        tap = ring + (size_t)row * (size_t)cin;
        for (i = 0; i < cin; ++i) {
            xcat[k * cin + i] = tap[i];
        }
    }
}

void wn_ring_gather_s16(int16_t *xcat, int16_t *ring, int32_t *pos, const int16_t *x, int32_t cin,
                         int32_t kernel, int32_t dilation, int32_t ring_len)
{
    int32_t p = *pos + 1, i, k;
    int16_t *slot;
    if (p == ring_len) {
        p = 0;
    }
    *pos = p;
    slot = ring + (size_t)p * (size_t)cin;
    for (i = 0; i < cin; ++i) {
        slot[i] = x[i];
    }
    for (k = 0; k < kernel; ++k) {
        int32_t row = p - (kernel - 1 - k) * dilation;
        const int16_t *tap;
        if (row < 0) {
            row += ring_len;
        }
        tap = ring + (size_t)row * (size_t)cin;
        for (i = 0; i < cin; ++i) {
            xcat[k * cin + i] = tap[i];
        }
    }
}
