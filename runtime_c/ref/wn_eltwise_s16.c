/* Elementwise integer kernels, int16_t activations. Parameters come precomputed from the
 * compiler (wncc/passes/qprepare.py); results are bit-exact with wncc/golden/qops.py. */
#include "wn_runtime.h"
#include "wn_requant.h"

#define WN_LO -32768
#define WN_HI 32767

void wn_embed_s16(int16_t *y, const int16_t *table, int32_t index, int32_t channels)
{
    const int16_t *row = table + (size_t)index * (size_t)channels;
    int32_t c;
    for (c = 0; c < channels; ++c) {
        y[c] = row[c];
    }
}

/* TFLite / CMSIS-NN elementwise add: both inputs scaled to a common left-shifted domain */
void wn_add_s16(int16_t *y, const int16_t *a, const int16_t *b, int32_t n, const wn_add_q *q)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t sa = ((int32_t)a[i] - q->zp_a) * (1 << q->left_shift);
        const int32_t sb = ((int32_t)b[i] - q->zp_b) * (1 << q->left_shift);
        const int32_t sum = wn_requant(sa, q->a_mult, q->a_shift) + wn_requant(sb, q->b_mult, q->b_shift);
        y[i] = (int16_t)wn_clamp((int64_t)wn_requant(sum, q->out_mult, q->out_shift) + q->zp_out, WN_LO, WN_HI);
    }
}

void wn_mul_s16(int16_t *y, const int16_t *a, const int16_t *b, int32_t n, const wn_mul_q *q)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t acc = ((int32_t)a[i] - q->zp_a) * ((int32_t)b[i] - q->zp_b);
        y[i] = (int16_t)wn_clamp((int64_t)wn_requant(acc, q->mult, q->shift) + q->zp_out, WN_LO, WN_HI);
    }
}

/* multiply by a constant: (x - zp) * c, requantized */
void wn_scale_s16(int16_t *y, const int16_t *x, int32_t n, const wn_mul_q *q)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t acc = ((int32_t)x[i] - q->zp_a) * q->c;
        y[i] = (int16_t)wn_clamp((int64_t)wn_requant(acc, q->mult, q->shift) + q->zp_out, WN_LO, WN_HI);
    }
}

/* tanh / sigmoid: see wn_act16_q in wn_runtime.h */
static int32_t wn_act16_one(const int16_t *table, const wn_act16_q *q, int16_t x)
{
    const int32_t domain = 1 << 23;
    const int32_t u = wn_clamp((int64_t)wn_requant((int32_t)x - q->zp_in, q->in_mult, q->in_shift),
                               -domain, domain - 1) + domain;
    const int32_t idx = u >> 12, frac = u & 4095;
    const int32_t base = table[idx];
    const int32_t y = base + ((((int32_t)table[idx + 1] - base) * frac + 2048) >> 12);
    return wn_clamp((int64_t)wn_requant(y, q->out_mult, q->out_shift) + q->zp_out, WN_LO, WN_HI);
}

void wn_act16_s16(int16_t *y, const int16_t *x, int32_t n, const int16_t *table,
                  const wn_act16_q *q)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        y[i] = (int16_t)wn_act16_one(table, q, x[i]);
    }
}

/* fused gate: tanh on a[tanh_at..], sigmoid on a[sigmoid_at..], product requantized
 * (q->zp_a, q->zp_b are the tanh and sigmoid output zero points) */
void wn_gate_s16(int16_t *y, const int16_t *a, int32_t half, int32_t tanh_at, int32_t sigmoid_at,
                 const int16_t *tanh_table, const wn_act16_q *qt, const int16_t *sigmoid_table,
                 const wn_act16_q *qs, const wn_mul_q *q)
{
    int32_t i;
    for (i = 0; i < half; ++i) {
        const int32_t t = wn_act16_one(tanh_table, qt, a[tanh_at + i]) - q->zp_a;
        const int32_t s = wn_act16_one(sigmoid_table, qs, a[sigmoid_at + i]) - q->zp_b;
        y[i] = (int16_t)wn_clamp((int64_t)wn_requant(t * s, q->mult, q->shift) + q->zp_out, WN_LO, WN_HI);
    }
}

/* requantize to new parameters; with relu, values below the input zero point become zero */
void wn_rescale_s16(int16_t *y, const int16_t *x, int32_t n, const wn_rescale_q *q, int32_t relu)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        int32_t v = (int32_t)x[i] - q->zp_in;
        if (relu && v < 0) {
            v = 0;
        }
        y[i] = (int16_t)wn_clamp((int64_t)wn_requant(v, q->mult, q->shift) + q->zp_out, WN_LO, WN_HI);
    }
}

/* QuantizeLinear of float input: x / scale in float, round half to even, add zero point */
void wn_quantize_s16(int16_t *y, const float *x, int32_t n, float scale, int32_t zp)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        y[i] = (int16_t)wn_clamp(wn_round_f32(x[i] / scale) + zp, WN_LO, WN_HI);
    }
}

/* Gumbel-max over integer logits: score = 256 * (q - zp) + gq[u >> 22]; gq NULL is greedy */
int32_t wn_sample_s16(const int16_t *logits, int32_t n, int32_t zp, const int32_t *gq,
                       wn_pcg32 *rng)
{
    int32_t best = 0, c;
    int32_t best_score = 0;
    for (c = 0; c < n; ++c) {
        int32_t score;
        if (gq == NULL) {
            score = (int32_t)logits[c];
        } else {
            const uint32_t u = wn_pcg32_next(rng);
            score = ((int32_t)logits[c] - zp) * 256 + gq[u >> (32 - WN_GUMBEL_BITS)];
        }
        if (c == 0 || score > best_score) {
            best_score = score;
            best = c;
        }
    }
    return best;
}
