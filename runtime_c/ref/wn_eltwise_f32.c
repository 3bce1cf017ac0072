/* Elementwise fp32 kernels: one rounding per operation. */
#include "wn_runtime.h"
#include "wn_sparse.h"

void wn_embed_f32(float *y, const float *table, int32_t index, int32_t channels)
{
    const float *row = table + (size_t)index * (size_t)channels;
    int32_t c;
    for (c = 0; c < channels; ++c) {
        y[c] = row[c];
    }
}

/* the same lookup from a table stored as CSR rows: the entries that differ from fill */
void wn_embed_csr_f32(float *y, const float *values, const wn_sparse *m, float fill, int32_t index)
{
    const int32_t end = (int32_t)wn_index(m->row_ptr, index + 1, m->ptr_bytes);
    int32_t c, j;
    for (c = 0; c < m->cols; ++c) {
        y[c] = fill;
    }
    for (j = (int32_t)wn_index(m->row_ptr, index, m->ptr_bytes); j < end; ++j) {
        y[wn_index(m->col, j, m->col_bytes)] = values[j];
    }
}

/* the class index as a one-hot vector of depth entries */
void wn_onehot_f32(float *y, int32_t index, int32_t depth, float off, float on)
{
    int32_t c;
    for (c = 0; c < depth; ++c) {
        y[c] = c == index ? on : off;
    }
}

void wn_add_f32(float *y, const float *a, const float *b, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        y[i] = a[i] + b[i];
    }
}

void wn_mul_f32(float *y, const float *a, const float *b, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        y[i] = a[i] * b[i];
    }
}

void wn_add_const_f32(float *y, const float *x, const float *c, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        y[i] = x[i] + c[i];
    }
}

void wn_scale_f32(float *y, const float *x, float s, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        y[i] = x[i] * s;
    }
}

void wn_relu_f32(float *y, const float *x, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
    }
}
