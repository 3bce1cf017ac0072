/* Elementwise integer kernels, int8_t activations: the common ones (wn_eltwise_int.inc) and
 * this type's tanh / sigmoid. */
#define WN_SFX s8
#define WN_XT int8_t
#define WN_LO (-128)
#define WN_HI 127
#include "wn_eltwise_int.inc"

/* tanh / sigmoid: entry x + 128 of the 256-entry table, of which entries first..last are stored
 * (the ones outside repeat the stored ends: the function's saturated tails) */
static int32_t wn_lut_one_s8(const wn_lut8 *lut, int8_t x)
{
    const int32_t i = (int32_t)x + 128;
    return lut->values[(i < lut->first ? lut->first : (i > lut->last ? lut->last : i)) - lut->first];
}

void wn_lut_s8(int8_t *y, const int8_t *x, int32_t n, const wn_lut8 *lut)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        y[i] = (int8_t)wn_lut_one_s8(lut, x[i]);
    }
}

/* fused gate: tanh table on a[tanh_at..], sigmoid table on a[sigmoid_at..], their product
 * requantized (q->zp_a, q->zp_b are the tanh and sigmoid output zero points) */
void wn_gate_s8(int8_t *y, const int8_t *a, int32_t half, int32_t tanh_at, int32_t sigmoid_at,
                const wn_lut8 *lut_tanh, const wn_lut8 *lut_sigmoid, const wn_mul_q *q)
{
    int32_t i;
    for (i = 0; i < half; ++i) {
        const int32_t t = wn_lut_one_s8(lut_tanh, a[tanh_at + i]) - q->zp_a;
        const int32_t s = wn_lut_one_s8(lut_sigmoid, a[sigmoid_at + i]) - q->zp_b;
        y[i] = (int8_t)wn_clamp((int64_t)wn_requant(t * s, q->mult, q->shift) + q->zp_out, WN_LO, WN_HI);
    }
}
