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
int32_t wn_sample_f32(const float *logits, int32_t n, float temperature, wn_pcg32 *rng,
                      const float *gumbel);

/* ---- fp32 kernels ---- */
void wn_embed_f32(float *y, const float *table, int32_t index, int32_t channels);
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

#endif
