/* fp16 / bf16 kernels: 2-byte weights (fmt 0 binary16, 1 bfloat16) decoded exactly to float,
 * float32 arithmetic in the order of the fp32 kernels; activations are rounded to the format by
 * wn_round_h16 after every op. */
#include "wn_runtime.h"
#include "wn_ring.h"
#include "wn_half.h"

void wn_round_h16(float *y, int32_t n, int32_t fmt)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        y[i] = wn_round_h16_one(y[i], fmt);
    }
}

void wn_embed_h16(float *y, const uint16_t *table, int32_t index, int32_t channels, int32_t fmt)
{
    const uint16_t *row = table + (size_t)index * (size_t)channels;
    int32_t c;
    for (c = 0; c < channels; ++c) {
        y[c] = wn_h16_to_f32(row[c], fmt);
    }
}

void wn_add_const_h16(float *y, const float *x, const uint16_t *c, int32_t n, int32_t fmt)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        y[i] = x[i] + wn_h16_to_f32(c[i], fmt);
    }
}

void wn_conv_h16(float *y, const float *x, const uint16_t *w, const uint16_t *b, int32_t cin,
                 int32_t cout, int32_t fmt)
{
    int32_t i, o;
    for (o = 0; o < cout; ++o) {
        y[o] = wn_h16_to_f32(b[o], fmt);
    }
    for (i = 0; i < cin; ++i) {
        const float xi = x[i];
        const uint16_t *row = w + (size_t)i * (size_t)cout;
        for (o = 0; o < cout; ++o) {
            y[o] += wn_h16_to_f32(row[o], fmt) * xi;
        }
    }
}

void wn_conv_ring_h16(float *y, float *ring, int32_t *pos, const float *x, const uint16_t *w,
                      const uint16_t *b, int32_t cin, int32_t cout, int32_t kernel,
                      int32_t dilation, int32_t ring_len, int32_t fmt)
{
    const int32_t p = wn_ring_advance(pos, ring_len);
    float *slot = ring + (size_t)p * (size_t)cin;
    int32_t i, k, o;
    for (i = 0; i < cin; ++i) {
        slot[i] = x[i];
    }
    for (o = 0; o < cout; ++o) {
        y[o] = wn_h16_to_f32(b[o], fmt);
    }
    for (k = 0; k < kernel; ++k) {
        const float *tap = ring + (size_t)wn_ring_tap(p, k, kernel, dilation, ring_len) * (size_t)cin;
        const uint16_t *wk = w + (size_t)k * (size_t)cin * (size_t)cout;
        for (i = 0; i < cin; ++i) {
            const float xi = tap[i];
            const uint16_t *wrow = wk + (size_t)i * (size_t)cout;
            for (o = 0; o < cout; ++o) {
                y[o] += wn_h16_to_f32(wrow[o], fmt) * xi;
            }
        }
    }
}

void wn_convt_h16(float *table, const float *x, const uint16_t *w, const uint16_t *b,
                  int32_t cin, int32_t cout, int32_t hop, int32_t fmt)
{
    const size_t rows = (size_t)hop * (size_t)cout;
    size_t j;
    int32_t i;
    for (j = 0; j < rows; ++j) {
        table[j] = wn_h16_to_f32(b[j % (size_t)cout], fmt);
    }
    for (i = 0; i < cin; ++i) {
        const float xi = x[i];
        const uint16_t *wi = w + (size_t)i * rows;
        for (j = 0; j < rows; ++j) {
            table[j] += wn_h16_to_f32(wi[j], fmt) * xi;
        }
    }
}
