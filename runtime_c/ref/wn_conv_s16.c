/* Integer convolutions: int16 weights, int16 activations, int64 accumulator. */
#define WN_SFX s16
#define WN_XT int16_t
#define WN_WT int16_t
#define WN_ACCT int64_t
#define WN_DOT(w, first, x, n) wn_dot_s16((w) + (first), x, n)
#define WN_OUT wn_rq_out16
#include "wn_conv_int.inc"
