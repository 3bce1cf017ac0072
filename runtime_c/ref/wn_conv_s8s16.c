/* Integer convolutions: int8 weights, int16 activations, int64 accumulator (TFLite 16x8 / CMSIS-NN s16). */
#define WN_SFX s8s16
#define WN_XT int16_t
#define WN_WT int8_t
#define WN_ACCT int64_t
#define WN_DOT(w, first, x, n) wn_dot_s8s16((w) + (first), x, n)
#define WN_OUT wn_rq_out16
#include "wn_conv_int.inc"
