/* Integer convolutions: int4 weights packed two per byte, int8 activations, int32 accumulator (CMSIS-NN s4). */
#define WN_SFX s4
#define WN_XT int8_t
#define WN_WT uint8_t
#define WN_ACCT int32_t
#define WN_DOT(w, first, x, n) wn_dot_s4(w, first, x, n)
#define WN_OUT wn_rq_out8
#include "wn_conv_int.inc"
