/* The CMSIS-NN backend (wncc --cmsis-nn): int8 convolutions computed by Arm's CMSIS-NN kernels
 * where their arithmetic equals the golden model's (wncc/cmsis_nn.py says when). The emitted
 * Makefile compiles the kernels from the CMSIS-NN checkout named at compile time. */
#ifndef WN_CMSIS_H
#define WN_CMSIS_H

#include <stdint.h>

/* y[cout] = clamp(requant(bias[o] + sum_i w[o][i] * x[i], mult[o], shift[o]) + zp_out) for one
 * time step, by arm_convolve_1x1_s8_fast: w is [cout][cin] (a ring convolution passes its
 * gathered taps, cin = kernel * channels, tap-major like its [Cout][K][Cin] weights), the input
 * zero point is folded into bias (NULL when all biases are zero), one multiplier and shift per
 * output channel. */
void wn_cmsis_conv_s8(int8_t *y, const int8_t *x, const int8_t *w, const int32_t *bias,
                      const int32_t *mult, const int32_t *shift, int32_t cin, int32_t cout,
                      int32_t zp_out);

#endif
