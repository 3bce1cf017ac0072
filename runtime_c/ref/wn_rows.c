#include <string.h>

#include "wn_runtime.h"

/* The conditioning network's row kernels (wncc/ops/depthwise.py, convt.py, conv.py): one
 * output row of a frame program's window at a time. Float sums: bias first, then the terms in
 * the order the golden model adds them, each product and sum rounded to float. */

/* rows rows of row_bytes each, step_bytes apart in src, packed into dst */
void wn_gather_rows(void *dst, const void *src, size_t row_bytes, int32_t rows,
                    size_t step_bytes)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *p = (const unsigned char *)src;
    int32_t k;
    for (k = 0; k < rows; ++k) {
        memcpy(d + (size_t)k * row_bytes, p + (size_t)k * step_bytes, row_bytes);
    }
}

/* y[ch] = b[ch] + sum_j w[ch * kernel + j] * x[j * step + ch], j ascending */
void wn_dwconv_f32(float *y, const float *x, const float *w, const float *b, int32_t c,
                   int32_t kernel, int32_t step)
{
    int32_t ch, j;
    for (ch = 0; ch < c; ++ch) {
        float acc = b[ch];
        for (j = 0; j < kernel; ++j) {
            acc += w[(size_t)ch * (size_t)kernel + (size_t)j] * x[(size_t)j * (size_t)step + (size_t)ch];
        }
        y[ch] = acc;
    }
}

/* y[ch] = b[ch] + sum_m w[ch * kernel + t0 - m * stride] * x[m * ldx + ch], m = 0 .. n-1 (input
 * rows ascending, taps descending) */
void wn_dwconvt_f32(float *y, const float *x, int32_t n, int32_t t0, int32_t stride,
                    const float *w, const float *b, int32_t c, int32_t kernel, int32_t ldx)
{
    int32_t ch, m;
    for (ch = 0; ch < c; ++ch) {
        float acc = b[ch];
        for (m = 0; m < n; ++m) {
            const int32_t t = t0 - m * stride;
            acc += w[(size_t)ch * (size_t)kernel + (size_t)t] * x[(size_t)m * (size_t)ldx + (size_t)ch];
        }
        y[ch] = acc;
    }
}

/* y[o] = b[o] + sum_m sum_i w[((t0 - m * stride) * cin + i) * cout + o] * x[m * ldx + i], m = 0
 * .. n-1 ascending, input channels ascending; w is [kernel][cin][cout] */
void wn_convt_row_f32(float *y, const float *x, int32_t n, int32_t t0, int32_t stride,
                      const float *w, const float *b, int32_t cin, int32_t cout, int32_t kernel,
                      int32_t ldx)
{
    int32_t i, o, m;
    (void)kernel;
    for (o = 0; o < cout; ++o) {
        y[o] = b[o];
    }
    for (m = 0; m < n; ++m) {
        const float *wt = w + (size_t)(t0 - m * stride) * (size_t)cin * (size_t)cout;
        const float *xm = x + (size_t)m * (size_t)ldx;
        for (i = 0; i < cin; ++i) {
            const float xi = xm[i];
            const float *row = wt + (size_t)i * (size_t)cout;
            for (o = 0; o < cout; ++o) {
                y[o] += row[o] * xi;
            }
        }
    }
}
