/* Test values shared by the C harnesses (opt_harness.c, dot_harness.c): a seeded xorshift32
 * stream and vectors filled in modes that reach the ends of each type's range. The includer
 * defines SEED first. */
#ifndef WN_HARNESS_VALUES_H
#define WN_HARNESS_VALUES_H

#include <stdint.h>

static uint32_t rng_state = SEED;

static uint32_t rnd(void) /* xorshift32 */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static int32_t uniform(int32_t lo, int32_t hi) /* inclusive */
{
    return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1));
}

enum { V_RANDOM, V_ALL_MIN, V_ALL_MAX, V_ALL_NEG_MAX, V_ALTERNATE, V_ALTERNATE_HI, V_ENDS,
       V_MODES };

/* element i of a vector filled in `mode` over [lo, hi] (lo = -128 for int8: representable even
 * though symmetric quantization stops at -127) */
static int32_t value(int32_t mode, int32_t lo, int32_t hi, int32_t i)
{
    switch (mode) {
    case V_ALL_MIN: return lo;
    case V_ALL_MAX: return hi;
    case V_ALL_NEG_MAX: return -hi;
    case V_ALTERNATE: return (i & 1) ? hi : lo;
    case V_ALTERNATE_HI: return (i & 1) ? lo : hi;
    case V_ENDS:
        switch (rnd() % 6) {
        case 0: return lo;
        case 1: return hi;
        case 2: return -hi;
        case 3: return 0;
        case 4: return 1;
        default: return -1;
        }
    default: return uniform(lo, hi);
    }
}

#endif
