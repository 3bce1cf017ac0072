/* tanh, sigmoid and the fused WaveNet gate, through wn_mathf.h (no libm). */
#include "wn_runtime.h"
#include "wn_mathf.h"

void wn_tanh_f32(float *y, const float *x, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        y[i] = wn_tanhf(x[i]);
    }
}

void wn_sigmoid_f32(float *y, const float *x, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        y[i] = wn_sigmoidf(x[i]);
    }
}

/* y = tanh(a[tanh_at ..]) * sigmoid(a[sigmoid_at ..]) over half channels */
void wn_gate_f32(float *y, const float *a, int32_t half, int32_t tanh_at, int32_t sigmoid_at)
{
    int32_t i;
    for (i = 0; i < half; ++i) {
        y[i] = wn_tanhf(a[tanh_at + i]) * wn_sigmoidf(a[sigmoid_at + i]);
    }
}
