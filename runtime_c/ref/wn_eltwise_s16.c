/* Elementwise integer kernels, int16_t activations: the common ones (wn_eltwise_int.inc) and
 * this type's tanh / sigmoid. */
#define WN_SFX s16
#define WN_XT int16_t
#define WN_LO (-32768)
#define WN_HI 32767
#include "wn_eltwise_int.inc"

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
