/* Sparse matrix-vector kernels, int8 weights, int16 activations, int64 accumulator.
 * y[o] = bias[o] + sum over stored (o, j) of w * x[j] then requantized; x is the
 * layer's input (a pointwise conv) or its ring taps gathered tap-major (wn_ring_gather_*).
 * Formats are described in wncc/sparse/formats.py. */
#include "wn_runtime.h"
#include "wn_sparse.h"
#include "wn_requant.h"

void wn_spmv_csr_s8s16(int16_t *y, const int16_t *x, const wn_sparse *m, const int8_t *values,
                       const int64_t *bias,
                       const int32_t *mult, const int32_t *shift, int32_t zp_out)
{
    int32_t o;
    for (o = 0; o < m->rows; ++o) {
        const int32_t end = (int32_t)wn_index(m->row_ptr, o + 1, m->ptr_bytes);
        int32_t j;
        int64_t acc = bias[o];
        for (j = (int32_t)wn_index(m->row_ptr, o, m->ptr_bytes); j < end; ++j) {
            acc += (int64_t)values[j] * x[wn_index(m->col, j, m->col_bytes)];
        }
        y[o] = (int16_t)wn_clamp((int64_t)wn_requant64(acc, mult[o], shift[o]) + zp_out, -32768, 32767);
    }
}

void wn_spmv_bsr_s8s16(int16_t *y, const int16_t *x, const wn_sparse *m, const int8_t *values,
                       const int64_t *bias,
                       const int32_t *mult, const int32_t *shift, int32_t zp_out)
{
    const int32_t br = m->block_rows, bc = m->block_cols;
    int32_t row0, r, c;
    for (row0 = 0; row0 < m->rows; row0 += br) {
        const int32_t block_row = row0 / br;
        const int32_t end = (int32_t)wn_index(m->row_ptr, block_row + 1, m->ptr_bytes);
        for (r = 0; r < br; ++r) {
            int64_t acc = bias[row0 + r];
            int32_t b;
            for (b = (int32_t)wn_index(m->row_ptr, block_row, m->ptr_bytes); b < end; ++b) {
                const int16_t *xb = x + (size_t)wn_index(m->col, b, m->col_bytes) * (size_t)bc;
                const int32_t first = (b * br + r) * bc;
                for (c = 0; c < bc; ++c) {
                    const int32_t j = first + c;
                    acc += (int64_t)values[j] * xb[c];
                }
            }
            y[row0 + r] = (int16_t)wn_clamp((int64_t)wn_requant64(acc, mult[row0 + r], shift[row0 + r]) + zp_out, -32768, 32767);
        }
    }
}

void wn_spmv_bitmask_s8s16(int16_t *y, const int16_t *x, const wn_sparse *m, const int8_t *values,
                           const int64_t *bias,
                       const int32_t *mult, const int32_t *shift, int32_t zp_out)
{
    const int32_t row_bytes = (m->cols + 7) / 8;
    int32_t o, j = 0;
    for (o = 0; o < m->rows; ++o) {
        const uint8_t *bits = m->mask + (size_t)o * (size_t)row_bytes;
        int64_t acc = bias[o];
        int32_t byte;
        for (byte = 0; byte < row_bytes; ++byte) {
            uint32_t set = bits[byte];
            while (set != 0u) {
                int32_t bit = 0;
                while (!(set & (1u << bit))) {
                    ++bit;
                }
                set &= set - 1u;
                acc += (int64_t)values[j] * x[byte * 8 + bit];
                ++j;
            }
        }
        y[o] = (int16_t)wn_clamp((int64_t)wn_requant64(acc, mult[o], shift[o]) + zp_out, -32768, 32767);
    }
}
