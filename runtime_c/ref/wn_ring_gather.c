/* Ring buffer step for sparse convolutions: push x as the newest row, then copy the kernel taps
 * (oldest first) into one contiguous vector xcat[kernel * cin] for the sparse product. */
#include "wn_runtime.h"
#include "wn_ring.h"

static void wn_copy_bytes(char *dst, const char *src, size_t n)
{
    size_t i;
    for (i = 0; i < n; ++i) {
        dst[i] = src[i];
    }
}

/* element size `bytes`: the same for every activation type */
static void wn_ring_gather(void *xcat, void *ring, int32_t *pos, const void *x, int32_t cin,
                           int32_t kernel, int32_t dilation, int32_t ring_len, size_t bytes)
{
    const int32_t p = wn_ring_advance(pos, ring_len);
    const size_t row_bytes = (size_t)cin * bytes;
    int32_t k;
    wn_copy_bytes((char *)ring + (size_t)p * row_bytes, (const char *)x, row_bytes);
    for (k = 0; k < kernel; ++k) {
        const int32_t row = wn_ring_tap(p, k, kernel, dilation, ring_len);
        wn_copy_bytes((char *)xcat + (size_t)k * row_bytes,
                      (const char *)ring + (size_t)row * row_bytes, row_bytes);
    }
}

void wn_ring_gather_f32(float *xcat, float *ring, int32_t *pos, const float *x, int32_t cin,
                         int32_t kernel, int32_t dilation, int32_t ring_len)
{
    wn_ring_gather(xcat, ring, pos, x, cin, kernel, dilation, ring_len, sizeof *x);
}

void wn_ring_gather_s8(int8_t *xcat, int8_t *ring, int32_t *pos, const int8_t *x, int32_t cin,
                         int32_t kernel, int32_t dilation, int32_t ring_len)
{
    wn_ring_gather(xcat, ring, pos, x, cin, kernel, dilation, ring_len, sizeof *x);
}

void wn_ring_gather_s16(int16_t *xcat, int16_t *ring, int32_t *pos, const int16_t *x, int32_t cin,
                         int32_t kernel, int32_t dilation, int32_t ring_len)
{
    wn_ring_gather(xcat, ring, pos, x, cin, kernel, dilation, ring_len, sizeof *x);
}
