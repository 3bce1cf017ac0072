/* Adapter from wncc's int8 convolutions to CMSIS-NN (wn_cmsis.h). CMSIS-NN picks its
 * implementation from the compiler's feature macros: Helium (__ARM_FEATURE_MVE), DSP
 * (__ARM_FEATURE_DSP) or portable C (host, Cortex-M3). */
#include "wn_cmsis.h"

#include "arm_nnfunctions.h"

#ifndef WN_SINGLE_ROUNDING
#define WN_SINGLE_ROUNDING 0
#endif

/* arm_nn_requantize must round like the model: CMSIS_NN_USE_SINGLE_ROUNDING exactly when the
 * model was compiled with --rounding single (the generated Makefile defines both) */
#if defined(CMSIS_NN_USE_SINGLE_ROUNDING) != (WN_SINGLE_ROUNDING != 0)
#error "CMSIS-NN and the model disagree on the rounding: build with the generated Makefile"
#endif

void wn_cmsis_conv_s8(int8_t *y, const int8_t *x, const int8_t *w, const int32_t *bias,
                      const int32_t *mult, const int32_t *shift, int32_t cin, int32_t cout,
                      int32_t zp_out)
{
    cmsis_nn_context ctx;
    cmsis_nn_conv_params conv;
    cmsis_nn_per_channel_quant_params quant;
    cmsis_nn_dims input_dims, filter_dims, bias_dims, output_dims;

    ctx.buf = 0; /* the 1x1 kernel needs no buffer */
    ctx.size = 0;
    conv.input_offset = 0; /* the input zero point is folded into the biases */
    conv.output_offset = zp_out;
    conv.stride.w = 1;
    conv.stride.h = 1;
    conv.padding.w = 0;
    conv.padding.h = 0;
    conv.dilation.w = 1;
    conv.dilation.h = 1;
    conv.activation.min = -128;
    conv.activation.max = 127;
    /* CMSIS-NN's parameter struct holds non-const pointers; the kernel only reads them */
    quant.multiplier = (int32_t *)mult;
    quant.shift = (int32_t *)shift;
    input_dims.n = 1;
    input_dims.h = 1;
    input_dims.w = 1;
    input_dims.c = cin;
    filter_dims.n = cout;
    filter_dims.h = 1;
    filter_dims.w = 1;
    filter_dims.c = cin;
    bias_dims.n = 1;
    bias_dims.h = 1;
    bias_dims.w = 1;
    bias_dims.c = cout;
    output_dims.n = 1;
    output_dims.h = 1;
    output_dims.w = 1;
    output_dims.c = cout;
    /* the only failure is a stride or padding other than the ones set above */
    (void)arm_convolve_1x1_s8_fast(&ctx, &conv, &quant, &input_dims, x, &filter_dims, w,
                                   &bias_dims, bias, &output_dims, y);
}
