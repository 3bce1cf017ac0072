/* Integer convolutions: int8 weights, int8 activations, int32 accumulator (TFLite int8 / CMSIS-NN s8). */
#define WN_SFX s8
#define WN_XT int8_t
#define WN_WT int8_t
#define WN_ACCT int32_t
#define WN_DOT(w, first, x, n) wn_dot_s8((w) + (first), x, n)
#define WN_OUT wn_rq_out8
#include "wn_conv_int.inc"
