/* wncc runtime: reference kernels (portable C99). Optimized kernels per ISA must equal these
 * exactly on integer paths. Float kernels accumulate bias first, then taps oldest to newest,
 * input channels ascending, every product and sum rounded to float (build with
 * -ffp-contract=off): wncc's golden model computes the same operations in the same order. */
#ifndef WN_RUNTIME_H
#define WN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

/* ---- random numbers and sampling (wn_sample.c) ---- */
typedef struct {
    uint64_t state;
    uint64_t inc;
} wn_pcg32;

#define WN_GUMBEL_BITS 10

void wn_pcg32_seed(wn_pcg32 *rng, uint64_t seed, uint64_t stream);
uint32_t wn_pcg32_next(wn_pcg32 *rng);
#define WN_CDF_TABLE 256 /* entries of each integer weight table of the cdf sampler */

/* the cdf sampler: one draw against the classes' cumulative weights (wn_sample.c) */
void wn_cdf_table(uint32_t *table, int32_t n, float step, int32_t unit);
int32_t wn_sample_cdf_f32(const float *logits, int32_t n, float temperature, wn_pcg32 *rng);
int32_t wn_sample_cdf_s8(const int8_t *logits, int32_t n, const uint32_t *lo, wn_pcg32 *rng);
int32_t wn_sample_cdf_s16(const int16_t *logits, int32_t n, const uint32_t *lo,
                          const uint32_t *hi, wn_pcg32 *rng);
/* Gumbel-max: one draw per class */
int32_t wn_sample_f32(const float *logits, int32_t n, float temperature, wn_pcg32 *rng,
                      const float *gumbel);
/* gumbel NULL: the component by the cdf sampler */
float wn_sample_mol_f32(const float *y, int32_t k, float log_scale_min, float temperature,
                        wn_pcg32 *rng, const float *gumbel);
float wn_sample_gaussian_f32(const float *y, float log_scale_min, float temperature,
                             wn_pcg32 *rng);
int16_t wn_pcm16(float v);
void wn_dequantize_s8(float *y, const int8_t *q, int32_t n, float scale, int32_t zp);
void wn_dequantize_s16(float *y, const int16_t *q, int32_t n, float scale, int32_t zp);

/* ---- the conditioning network's rows (wn_rows.c): windows of a frame program ---- */
static inline int32_t wn_floor_div(int32_t a, int32_t b) /* b > 0 */
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static inline int32_t wn_ceil_div(int32_t a, int32_t b) /* b > 0 */
{
    return -wn_floor_div(-a, b);
}

/* every element of row y (n elements, any type) = v: a padding row of a window */
#define wn_fill_row(y, v, n)                                                                     \
    do {                                                                                         \
        int32_t i_;                                                                              \
        for (i_ = 0; i_ < (n); ++i_) {                                                           \
            (y)[i_] = (v);                                                                       \
        }                                                                                        \
    } while (0)

void wn_gather_rows(void *dst, const void *src, size_t row_bytes, int32_t rows,
                    size_t step_bytes);
void wn_dwconv_f32(float *y, const float *x, const float *w, const float *b, int32_t c,
                   int32_t kernel, int32_t step);
void wn_dwconvt_f32(float *y, const float *x, int32_t n, int32_t t0, int32_t stride,
                    const float *w, const float *b, int32_t c, int32_t kernel, int32_t ldx);
void wn_convt_row_f32(float *y, const float *x, int32_t n, int32_t t0, int32_t stride,
                      const float *w, const float *b, int32_t cin, int32_t cout, int32_t kernel,
                      int32_t ldx);

/* ---- fp32 kernels ---- */
void wn_embed_f32(float *y, const float *table, int32_t index, int32_t channels);
void wn_onehot_f32(float *y, int32_t index, int32_t depth, float off, float on);
void wn_conv_f32(float *y, const float *x, const float *w, const float *b, int32_t cin,
                 int32_t cout);
void wn_conv_ring_f32(float *y, float *ring, int32_t *pos, const float *x, const float *w,
                      const float *b, int32_t cin, int32_t cout, int32_t kernel,
                      int32_t dilation, int32_t ring_len);
void wn_convt_f32(float *table, const float *x, const float *w, const float *b, int32_t cin,
                  int32_t cout, int32_t hop);
void wn_add_f32(float *y, const float *a, const float *b, int32_t n);
void wn_mul_f32(float *y, const float *a, const float *b, int32_t n);
void wn_add_const_f32(float *y, const float *x, const float *c, int32_t n);
void wn_scale_f32(float *y, const float *x, float s, int32_t n);
void wn_relu_f32(float *y, const float *x, int32_t n);
void wn_tanh_f32(float *y, const float *x, int32_t n);
void wn_sigmoid_f32(float *y, const float *x, int32_t n);
void wn_gate_f32(float *y, const float *a, int32_t half, int32_t tanh_at, int32_t sigmoid_at);

/* ---- fp16 / bf16 kernels (fmt 0 binary16, 1 bfloat16): 2-byte weights, float arithmetic ---- */
void wn_round_h16(float *y, int32_t n, int32_t fmt);
void wn_embed_h16(float *y, const uint16_t *table, int32_t index, int32_t channels, int32_t fmt);
void wn_add_const_h16(float *y, const float *x, const uint16_t *c, int32_t n, int32_t fmt);
void wn_conv_h16(float *y, const float *x, const uint16_t *w, const uint16_t *b, int32_t cin,
                 int32_t cout, int32_t fmt);
void wn_conv_ring_h16(float *y, float *ring, int32_t *pos, const float *x, const uint16_t *w,
                      const uint16_t *b, int32_t cin, int32_t cout, int32_t kernel,
                      int32_t dilation, int32_t ring_len, int32_t fmt);
void wn_convt_h16(float *table, const float *x, const uint16_t *w, const uint16_t *b,
                  int32_t cin, int32_t cout, int32_t hop, int32_t fmt);

/* ---- sparse weights (wncc/sparse/formats.py): csr, bsr, bitmask ---- */
typedef struct {
    const void *row_ptr; /* csr: rows + 1 entries; bsr: rows / block_rows + 1 */
    const void *col;     /* csr: column of each value; bsr: block column of each block */
    const uint8_t *mask; /* bitmask: rows x ceil(cols / 8) bytes */
    int32_t ptr_bytes, col_bytes, rows, cols, block_rows, block_cols;
} wn_sparse;

/* ---- requantization of an integer layer's outputs (wncc/codegen/weights.py) ----
 * out[o] = clamp(requant(bias[o] + sum, mult[c], shift[c]) + zp_out) with c = o, or c = 0 for
 * every o when per_channel is 0 (all channels share one multiplier, e.g. per-tensor weight
 * scales). Biases are stored in the narrowest signed type that holds the layer's values
 * (bias_bytes 1, 2, 4 or 8), or not at all (bias NULL, bias_bytes 0) when they are all zero. */
typedef struct {
    const void *bias;
    const int32_t *mult; /* Q31 multipliers */
    const int8_t *shift; /* power-of-two exponents, -31..30 */
    int32_t zp_out;
    int32_t bias_bytes;
    int32_t per_channel;
} wn_rq;

void wn_dwconv_s8(int8_t *y, const int8_t *x, const int8_t *w, const wn_rq *qp, int32_t c,
                  int32_t kernel, int32_t step);
void wn_dwconv_s8s16(int16_t *y, const int16_t *x, const int8_t *w, const wn_rq *qp, int32_t c,
                     int32_t kernel, int32_t step);
void wn_dwconvt_s8(int8_t *y, const int8_t *x, int32_t n, int32_t t0, int32_t stride,
                   const int8_t *w, const wn_rq *qp, int32_t zp_in, int32_t c, int32_t kernel,
                   int32_t ldx);
void wn_convt_row_s8(int8_t *y, const int8_t *x, int32_t n, int32_t t0, int32_t stride,
                     const int8_t *w, const wn_rq *qp, int32_t zp_in, int32_t cin, int32_t cout,
                     int32_t kernel, int32_t ldx);

static inline int64_t wn_rq_bias(const wn_rq *q, int32_t o)
{
    switch (q->bias_bytes) {
    case 1: return ((const int8_t *)q->bias)[o];
    case 2: return ((const int16_t *)q->bias)[o];
    case 4: return ((const int32_t *)q->bias)[o];
    case 8: return ((const int64_t *)q->bias)[o];
    default: return 0;
    }
}

/* wn_rq_bias of the channels o..o+3 (one test of the stored width for the four) */
static inline void wn_rq_bias4(const wn_rq *q, int32_t o, int64_t b[4])
{
    int32_t r;
    switch (q->bias_bytes) {
    case 1: for (r = 0; r < 4; ++r) { b[r] = ((const int8_t *)q->bias)[o + r]; } break;
    case 2: for (r = 0; r < 4; ++r) { b[r] = ((const int16_t *)q->bias)[o + r]; } break;
    case 4: for (r = 0; r < 4; ++r) { b[r] = ((const int32_t *)q->bias)[o + r]; } break;
    case 8: for (r = 0; r < 4; ++r) { b[r] = ((const int64_t *)q->bias)[o + r]; } break;
    default: for (r = 0; r < 4; ++r) { b[r] = 0; } break;
    }
}

void wn_spmv_csr_f32(float *y, const float *x, const wn_sparse *m, const float *values,
                     const float *bias);
void wn_spmv_bsr_f32(float *y, const float *x, const wn_sparse *m, const float *values,
                     const float *bias);
void wn_spmv_bitmask_f32(float *y, const float *x, const wn_sparse *m, const float *values,
                         const float *bias);
void wn_embed_csr_f32(float *y, const float *values, const wn_sparse *m, float fill, int32_t index);
void wn_spmv_csr_s8(int8_t *y, const int8_t *x, const wn_sparse *m, const int8_t *values,
                    const wn_rq *q);
void wn_spmv_bsr_s8(int8_t *y, const int8_t *x, const wn_sparse *m, const int8_t *values,
                    const wn_rq *q);
void wn_spmv_bitmask_s8(int8_t *y, const int8_t *x, const wn_sparse *m, const int8_t *values,
                        const wn_rq *q);
void wn_spmv_csr_s4(int8_t *y, const int8_t *x, const wn_sparse *m, const uint8_t *values,
                    const wn_rq *q);
void wn_spmv_bsr_s4(int8_t *y, const int8_t *x, const wn_sparse *m, const uint8_t *values,
                    const wn_rq *q);
void wn_spmv_bitmask_s4(int8_t *y, const int8_t *x, const wn_sparse *m, const uint8_t *values,
                        const wn_rq *q);
void wn_spmv_csr_s8s16(int16_t *y, const int16_t *x, const wn_sparse *m, const int8_t *values,
                       const wn_rq *q);
void wn_spmv_bsr_s8s16(int16_t *y, const int16_t *x, const wn_sparse *m, const int8_t *values,
                       const wn_rq *q);
void wn_spmv_bitmask_s8s16(int16_t *y, const int16_t *x, const wn_sparse *m, const int8_t *values,
                           const wn_rq *q);

void wn_ring_gather_f32(float *xcat, float *ring, int32_t *pos, const float *x, int32_t cin,
                        int32_t kernel, int32_t dilation, int32_t ring_len);
void wn_ring_gather_s8(int8_t *xcat, int8_t *ring, int32_t *pos, const int8_t *x, int32_t cin,
                       int32_t kernel, int32_t dilation, int32_t ring_len);
void wn_ring_gather_s16(int16_t *xcat, int16_t *ring, int32_t *pos, const int16_t *x,
                        int32_t cin, int32_t kernel, int32_t dilation, int32_t ring_len);

/* ---- integer kernels: parameters precomputed by the compiler ---- */
typedef struct {
    int32_t left_shift, a_mult, a_shift, b_mult, b_shift, out_mult, out_shift, zp_a, zp_b, zp_out;
} wn_add_q;

typedef struct {
    int32_t mult, shift, zp_a, zp_b, zp_out, c;
} wn_mul_q;

typedef struct {
    int32_t mult, shift, zp_in, zp_out;
} wn_rescale_q;

/* int16 tanh / sigmoid: input rescaled onto [-2^23, 2^23) (the function's domain [-R, R)), the
 * shared 4097-entry Q0.15 table interpolated with a 12-bit fraction, output requantized */
typedef struct {
    int32_t in_mult, in_shift, zp_in, out_mult, out_shift, zp_out;
} wn_act16_q;

#define WN_ACT16_TABLE_SIZE 4097

void wn_embed_s8(int8_t *y, const int8_t *table, int32_t index, int32_t channels);
void wn_onehot_s8(int8_t *y, int32_t index, int32_t depth, int32_t off, int32_t on);
void wn_embed_csr_s8(int8_t *y, const int8_t *values, const wn_sparse *m, int32_t fill,
                     int32_t index);
void wn_add_s8(int8_t *y, const int8_t *a, const int8_t *b, int32_t n, const wn_add_q *q);
void wn_mul_s8(int8_t *y, const int8_t *a, const int8_t *b, int32_t n, const wn_mul_q *q);
void wn_scale_s8(int8_t *y, const int8_t *x, int32_t n, const wn_mul_q *q);
void wn_rescale_s8(int8_t *y, const int8_t *x, int32_t n, const wn_rescale_q *q, int32_t relu);
void wn_quantize_s8(int8_t *y, const float *x, int32_t n, float scale, int32_t zp);
int32_t wn_sample_s8(const int8_t *logits, int32_t n, int32_t zp, const int32_t *gq,
                     wn_pcg32 *rng);
void wn_embed_s16(int16_t *y, const int16_t *table, int32_t index, int32_t channels);
void wn_onehot_s16(int16_t *y, int32_t index, int32_t depth, int32_t off, int32_t on);
void wn_embed_csr_s16(int16_t *y, const int16_t *values, const wn_sparse *m, int32_t fill,
                      int32_t index);
void wn_add_s16(int16_t *y, const int16_t *a, const int16_t *b, int32_t n, const wn_add_q *q);
void wn_mul_s16(int16_t *y, const int16_t *a, const int16_t *b, int32_t n, const wn_mul_q *q);
void wn_scale_s16(int16_t *y, const int16_t *x, int32_t n, const wn_mul_q *q);
void wn_rescale_s16(int16_t *y, const int16_t *x, int32_t n, const wn_rescale_q *q, int32_t relu);
void wn_quantize_s16(int16_t *y, const float *x, int32_t n, float scale, int32_t zp);
int32_t wn_sample_s16(const int16_t *logits, int32_t n, int32_t zp, const int32_t *gq,
                      wn_pcg32 *rng);

void wn_requantize_s8_s16(int16_t *y, const int8_t *x, int32_t n, const wn_rescale_q *q);
void wn_requantize_s16_s8(int8_t *y, const int16_t *x, int32_t n, const wn_rescale_q *q);

/* int8 tanh / sigmoid: a 256-entry table indexed by x + 128 of which entries first..last are
 * stored; the entries outside equal the nearest stored end (the function's saturated tails) */
typedef struct {
    const int8_t *values;
    int32_t first, last;
} wn_lut8;

/* tanh / sigmoid: entry x + 128 of the 256-entry table, of which entries first..last are stored
 * (the ones outside repeat the stored ends: the function's saturated tails) */
static inline int32_t wn_lut8_at(const wn_lut8 *lut, int8_t x)
{
    const int32_t i = (int32_t)x + 128;
    return lut->values[(i < lut->first ? lut->first : (i > lut->last ? lut->last : i)) - lut->first];
}

void wn_lut_s8(int8_t *y, const int8_t *x, int32_t n, const wn_lut8 *lut);
void wn_gate_s8(int8_t *y, const int8_t *a, int32_t half, int32_t tanh_at, int32_t sigmoid_at,
                const wn_lut8 *lut_tanh, const wn_lut8 *lut_sigmoid, const wn_mul_q *q);
void wn_act16_s16(int16_t *y, const int16_t *x, int32_t n, const int16_t *table,
                  const wn_act16_q *q);
void wn_gate_s16(int16_t *y, const int16_t *a, int32_t half, int32_t tanh_at, int32_t sigmoid_at,
                 const int16_t *tanh_table, const wn_act16_q *qt, const int16_t *sigmoid_table,
                 const wn_act16_q *qs, const wn_mul_q *q);

void wn_conv_s8(int8_t *y, const int8_t *x, const int8_t *w, const wn_rq *q, int32_t cin,
                int32_t cout);
void wn_conv_ring_s8(int8_t *y, int8_t *ring, int32_t *pos, const int8_t *x, const int8_t *w,
                     const wn_rq *q, int32_t cin, int32_t cout, int32_t kernel, int32_t dilation,
                     int32_t ring_len);
void wn_convt_s8(int8_t *table, const int8_t *x, const int8_t *w, const wn_rq *q, int32_t cin,
                 int32_t cout, int32_t hop);
/* the same on weights packed for an ISA (wncc/ops/layout.py): AVX-512 VNNI, Armv7E-M DSP, Helium,
 * AArch64 dot product (runtime_c/avx512_vnni/wn_conv_vnni_s8.c, runtime_c/dsp/wn_conv_dsp4_s8.c,
 * runtime_c/mve/wn_conv_mve4_s8.c, runtime_c/neon_dotprod/wn_conv_sdot_s8.c) */
void wn_conv_vnni_s8(int8_t *y, const int8_t *x, const int8_t *w, const wn_rq *q, int32_t cin,
                     int32_t cout);
void wn_conv_ring_vnni_s8(int8_t *y, int8_t *ring, int32_t *pos, const int8_t *x,
                          const int8_t *w, const wn_rq *q, int32_t cin, int32_t cout,
                          int32_t kernel, int32_t dilation, int32_t ring_len);
void wn_conv_dsp4_s8(int8_t *y, const int8_t *x, const int8_t *w, const wn_rq *q, int32_t cin,
                     int32_t cout);
void wn_conv_ring_dsp4_s8(int8_t *y, int8_t *ring, int32_t *pos, const int8_t *x,
                          const int8_t *w, const wn_rq *q, int32_t cin, int32_t cout,
                          int32_t kernel, int32_t dilation, int32_t ring_len);
void wn_conv_mve4_s8(int8_t *y, const int8_t *x, const int8_t *w, const wn_rq *q, int32_t cin,
                     int32_t cout);
void wn_conv_sdot_s8(int8_t *y, const int8_t *x, const int8_t *w, const wn_rq *q, int32_t cin,
                     int32_t cout);
void wn_conv_ring_sdot_s8(int8_t *y, int8_t *ring, int32_t *pos, const int8_t *x,
                          const int8_t *w, const wn_rq *q, int32_t cin, int32_t cout,
                          int32_t kernel, int32_t dilation, int32_t ring_len);
void wn_conv_ring_mve4_s8(int8_t *y, int8_t *ring, int32_t *pos, const int8_t *x,
                          const int8_t *w, const wn_rq *q, int32_t cin, int32_t cout,
                          int32_t kernel, int32_t dilation, int32_t ring_len);
void wn_conv_s4(int8_t *y, const int8_t *x, const uint8_t *w, const wn_rq *q, int32_t cin,
                int32_t cout);
void wn_conv_ring_s4(int8_t *y, int8_t *ring, int32_t *pos, const int8_t *x, const uint8_t *w,
                     const wn_rq *q, int32_t cin, int32_t cout, int32_t kernel, int32_t dilation,
                     int32_t ring_len);
void wn_convt_s4(int8_t *table, const int8_t *x, const uint8_t *w, const wn_rq *q, int32_t cin,
                 int32_t cout, int32_t hop);
void wn_conv_s16(int16_t *y, const int16_t *x, const int16_t *w, const wn_rq *q, int32_t cin,
                 int32_t cout);
void wn_conv_ring_s16(int16_t *y, int16_t *ring, int32_t *pos, const int16_t *x, const int16_t *w,
                      const wn_rq *q, int32_t cin, int32_t cout, int32_t kernel, int32_t dilation,
                      int32_t ring_len);
void wn_convt_s16(int16_t *table, const int16_t *x, const int16_t *w, const wn_rq *q, int32_t cin,
                  int32_t cout, int32_t hop);
void wn_conv_s8s16(int16_t *y, const int16_t *x, const int8_t *w, const wn_rq *q, int32_t cin,
                   int32_t cout);
void wn_conv_ring_s8s16(int16_t *y, int16_t *ring, int32_t *pos, const int16_t *x, const int8_t *w,
                        const wn_rq *q, int32_t cin, int32_t cout, int32_t kernel,
                        int32_t dilation, int32_t ring_len);
void wn_convt_s8s16(int16_t *table, const int16_t *x, const int8_t *w, const wn_rq *q, int32_t cin,
                    int32_t cout, int32_t hop);

#endif
