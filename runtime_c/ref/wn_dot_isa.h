/* The portable build has no ISA-specific dot products: runtime_c/ref/wn_dot.h's loops serve.
 * Target kernel folders (runtime_c/dsp, mve, neon, neon_dotprod, avx2, avx512_vnni) have their
 * own. */
#ifndef WN_DOT_ISA_H
#define WN_DOT_ISA_H
#endif
