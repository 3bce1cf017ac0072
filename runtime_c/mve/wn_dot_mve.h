/* mve: the dot products of the integer kernels for this ISA (the project's wn_dot_isa.h includes
 * this for the target; runtime_c/ref/wn_dot.h then skips its portable loops for the dot
 * products defined here; the kernels themselves are the reference ones).
 * Integer sums are exact, so the results equal the reference bit for bit. */
#ifndef WN_DOT_MVE_H
#define WN_DOT_MVE_H

#include <arm_mve.h>
#include <stdint.h>

#if !defined(__ARM_FEATURE_MVE)
#error "runtime_c/mve needs Helium (-mcpu=cortex-m55)"
#endif


#ifndef WN_HAVE_DOT_S8
#define WN_HAVE_DOT_S8
static inline int32_t wn_dot_s8(const int8_t *w, const int8_t *x, int32_t n)
{
    int32_t acc = 0;
    for (; n > 0; n -= 16, w += 16, x += 16) {
        const mve_pred16_t p = vctp8q((uint32_t)n);
        acc = vmladavaq_s8(acc, vldrbq_z_s8(w, p), vldrbq_z_s8(x, p));
    }
    return acc;
}
#endif

#ifndef WN_HAVE_DOT_S8S16
#define WN_HAVE_DOT_S8S16
static inline int64_t wn_dot_s8s16(const int8_t *w, const int16_t *x, int32_t n)
{
    int64_t acc = 0;
    for (; n > 0; n -= 8, w += 8, x += 8) {
        const mve_pred16_t p = vctp16q((uint32_t)n);
        acc = vmlaldavaq_s16(acc, vldrbq_z_s16(w, p), vldrhq_z_s16(x, p));
    }
    return acc;
}
#endif

#endif
