/* Conversions between the integer activation types of a mixed-precision model (a QuantizeLinear
 * of a dequantized tensor into another type): y = clamp(requant(x - zp_in) + zp_out). */
#include "wn_runtime.h"
#include "wn_requant.h"

void wn_requantize_s8_s16(int16_t *y, const int8_t *x, int32_t n, const wn_rescale_q *q)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t v = (int32_t)x[i] - q->zp_in;
        y[i] = (int16_t)wn_clamp_zp(wn_requant(v, q->mult, q->shift), q->zp_out, -32768, 32767);
    }
}

void wn_requantize_s16_s8(int8_t *y, const int16_t *x, int32_t n, const wn_rescale_q *q)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t v = (int32_t)x[i] - q->zp_in;
        y[i] = (int8_t)wn_clamp_zp(wn_requant(v, q->mult, q->shift), q->zp_out, -128, 127);
    }
}
