/* The dot products of runtime_c/ref/wn_dot.h, optimized (a target's wn_dot_isa.h) against
 * portable (ref's empty wn_dot_isa.h), for equality: integer sums are exact, so any difference
 * is a bug. One file in three roles (tests/runtime_c/test_dot_isa.py builds it three times):
 *
 *   -DWN_DOT_WRAP=ref   with runtime_c/ref first on the include path: ref_dot_s8, ... wrap the
 *                       portable loops;
 *   -DWN_DOT_WRAP=opt   with the target's generated wn_dot_isa.h first: opt_dot_s8, ... wrap
 *                       the ISA's versions (-DWN_DOT_BREAK=k plants a known bug: the negative
 *                       controls);
 *   neither             the driver: runs on the core it tests (qemu-user, bare metal with
 *                       semihosting, or natively), prints one PASS line and returns 0, or the
 *                       first mismatch and 1.
 *
 * Cases, every family (s8, s4, s16, s8s16): every length 0..70 with every pair of fill modes;
 * lengths around the vector widths up to 4099 and past the int32 bounds of an accumulator
 * (s8: 131071, the longest all-(-128) sum an int32 holds; s4: 131081, past the 2^17 products
 * after which 16 * w * x sums leave an int32) with the extreme modes; then CASES random ones.
 * Fill modes reach the ends the types allow (-128, -8 and -32768 included, although symmetric
 * quantization stops one short), alternate signs, and start at random offsets (unaligned
 * pointers, odd `first` for s4). Elements just past the end and the unused nibbles of the
 * packed weights hold garbage, which an over-read would add in. */
#include <stdint.h>
#include <stdio.h>

#define WN_CAT_(a, b) a##_##b
#define WN_CAT(a, b) WN_CAT_(a, b)

#ifdef WN_DOT_WRAP /* ---------------------------------------------------- the wrappers */

#include "wn_dot.h"

#define WRAP(name) WN_CAT(WN_DOT_WRAP, name)

#ifndef WN_DOT_BREAK
#define WN_DOT_BREAK 0
#endif

/* negative controls (-DWN_DOT_BREAK=k in the opt build): 1-4 add 1 to one family's result;
 * the others are the classic mistakes the cases must catch: 5 VPMADDWD-style int32 pair sums in
 * s16 (wrong only when all four values are -32768), 6 an int32 accumulator in s16, 7 an int32
 * accumulator in s8s16 (wrong only past 2^31 / 2^22 = 512 extreme products), 8 the odd `first`
 * of s4 taken as even, 9 the DSP's 16 * w * x int32 sum of s4 without its flush (wrong only past
 * 2^17 extreme products), 10 two rows of wn_dot4_s8 swapped. Wrapping arithmetic is done in
 * uint32_t (no undefined overflow). */
static int64_t broken_s16(const int16_t *w, const int16_t *x, int32_t n)
{
    int64_t acc = 0;
    uint32_t acc32 = 0;
    int32_t i = 0;
    for (; WN_DOT_BREAK == 5 && i + 2 <= n; i += 2) {
        const uint32_t pair = (uint32_t)(w[i] * x[i]) + (uint32_t)(w[i + 1] * x[i + 1]);
        acc += (int32_t)pair; /* -2^31 where the pair was 2^31 */
    }
    for (; i < n; ++i) {
        acc32 += (uint32_t)(w[i] * x[i]);
        acc += w[i] * x[i];
    }
    return WN_DOT_BREAK == 6 ? (int64_t)(int32_t)acc32 : acc;
}

static int64_t broken_s8s16(const int8_t *w, const int16_t *x, int32_t n)
{
    uint32_t acc32 = 0;
    int32_t i;
    for (i = 0; i < n; ++i) {
        acc32 += (uint32_t)(w[i] * x[i]);
    }
    return (int32_t)acc32;
}

static int32_t broken_s4(const uint8_t *w, int32_t first, const int8_t *x, int32_t n)
{
    uint32_t acc16 = 0;
    int32_t i;
    if (WN_DOT_BREAK == 8) {
        return wn_dot_s4(w, first & ~1, x, n);
    }
    for (i = 0; i < n; ++i) {
        acc16 += (uint32_t)(16 * wn_s4_at(w, first + i) * x[i]);
    }
    return (int32_t)acc16 / 16;
}

int32_t WRAP(dot_s8)(const int8_t *w, const int8_t *x, int32_t n)
{
    /* wn_dot2_s8 and wn_dot4_s8 too (the multi-row kernels' dots): rows w and the activations
     * themselves in a known order, added to non-zero accumulators; a wrong row shows as an
     * off-by-one of the result (-DWN_DOT_BREAK=10 swaps two of the four rows) */
    int32_t a0 = 3, a1 = -3, a4[4] = {5, -5, 7, -7};
    const int8_t *r2 = WN_DOT_BREAK == 10 ? w : x, *r3 = WN_DOT_BREAK == 10 ? x : w;
    const int32_t wx = wn_dot_s8(w, x, n), xx = wn_dot_s8(x, x, n);
    wn_dot2_s8(w, x, x, n, &a0, &a1);
    wn_dot4_s8(w, x, r2, r3, x, n, a4);
    return wx + (WN_DOT_BREAK == 1) + (a0 - 3 != wx) + (a1 + 3 != xx) + (a4[0] - 5 != wx) +
           (a4[1] + 5 != xx) + (a4[2] - 7 != xx) + (a4[3] + 7 != wx);
}

int32_t WRAP(dot_s4)(const uint8_t *w, int32_t first, const int8_t *x, int32_t n)
{
    if (WN_DOT_BREAK == 8 || WN_DOT_BREAK == 9) {
        return broken_s4(w, first, x, n);
    }
    return wn_dot_s4(w, first, x, n) + (WN_DOT_BREAK == 2);
}

int64_t WRAP(dot_s16)(const int16_t *w, const int16_t *x, int32_t n)
{
    if (WN_DOT_BREAK == 5 || WN_DOT_BREAK == 6) {
        return broken_s16(w, x, n);
    }
    return wn_dot_s16(w, x, n) + (WN_DOT_BREAK == 3);
}

int64_t WRAP(dot_s8s16)(const int8_t *w, const int16_t *x, int32_t n)
{
    if (WN_DOT_BREAK == 7) {
        return broken_s8s16(w, x, n);
    }
    return wn_dot_s8s16(w, x, n) + (WN_DOT_BREAK == 4);
}

/* the families this build's wn_dot_isa.h replaced */
const char *WRAP(dot_isa)(void)
{
    return ""
#ifdef WN_HAVE_DOT_S8
           " s8"
#endif
#ifdef WN_HAVE_DOT_S4
           " s4"
#endif
#ifdef WN_HAVE_DOT_S16
           " s16"
#endif
#ifdef WN_HAVE_DOT_S8S16
           " s8s16"
#endif
        ;
}

#else /* ---------------------------------------------------------------- the driver */

#ifndef CASES
#define CASES 2000
#endif
#ifndef SEED
#define SEED 0x9E3779B9u
#endif

#define WN_DECLS(p)                                                                        \
    int32_t p##_dot_s8(const int8_t *w, const int8_t *x, int32_t n);                       \
    int32_t p##_dot_s4(const uint8_t *w, int32_t first, const int8_t *x, int32_t n);       \
    int64_t p##_dot_s16(const int16_t *w, const int16_t *x, int32_t n);                    \
    int64_t p##_dot_s8s16(const int8_t *w, const int16_t *x, int32_t n);                   \
    const char *p##_dot_isa(void);
WN_DECLS(ref)
WN_DECLS(opt)

#define OFF_MAX 32   /* start offsets 0..OFF_MAX-1, and OFF_MAX garbage elements past the end */
#define N8_MAX 131081 /* s8 and s4 (int8 activations) */
#define N16_MAX 4099  /* s16 and s8s16 (int16 activations) */

static int8_t w8[N8_MAX + 2 * OFF_MAX], x8[N8_MAX + 2 * OFF_MAX];
static uint8_t w4[(N8_MAX + 2 * OFF_MAX) / 2 + 1];
static int16_t w16[N16_MAX + 2 * OFF_MAX], x16[N16_MAX + 2 * OFF_MAX];

#include "harness_values.h"

static const char *const mode_names[V_MODES] = {"random", "min", "max", "-max", "alt", "alt-hi",
                                                "ends"};

enum { F_S8, F_S4, F_S16, F_S8S16, F_FAMILIES };
static const char *const family_names[F_FAMILIES] = {"s8", "s4", "s16", "s8s16"};

typedef struct {
    int32_t family, n, woff, xoff, wmode, xmode;
} dot_case;

static void print_i64(const char *label, int64_t v) /* newlib-nano's printf has no %lld */
{
    const uint64_t u = (uint64_t)v;
    printf(" %s=0x%08lx%08lx", label, (unsigned long)(uint32_t)(u >> 32),
           (unsigned long)(uint32_t)u);
}

/* fill, run both, compare; 1 on a mismatch (reported) */
static int check(const dot_case *c)
{
    const int32_t n = c->n, wo = c->woff, xo = c->xoff;
    int64_t r = 0, o = 0;
    int32_t i;
    switch (c->family) {
    case F_S8:
    case F_S4:
        for (i = 0; i < n + OFF_MAX; ++i) { /* the tail past n is garbage */
            x8[xo + i] = (int8_t)(i < n ? value(c->xmode, -128, 127, i) : uniform(-128, 127));
        }
        break;
    default:
        for (i = 0; i < n + OFF_MAX; ++i) {
            x16[xo + i] = (int16_t)(i < n ? value(c->xmode, -32768, 32767, i)
                                          : uniform(-32768, 32767));
        }
        break;
    }
    switch (c->family) {
    case F_S8:
    case F_S8S16:
        for (i = 0; i < n + OFF_MAX; ++i) {
            w8[wo + i] = (int8_t)(i < n ? value(c->wmode, -128, 127, i) : uniform(-128, 127));
        }
        break;
    case F_S16:
        for (i = 0; i < n + OFF_MAX; ++i) {
            w16[wo + i] = (int16_t)(i < n ? value(c->wmode, -32768, 32767, i)
                                          : uniform(-32768, 32767));
        }
        break;
    default: /* s4: elements wo .. wo + n - 1 of the packed bytes; the other nibbles garbage */
        for (i = 0; i < (n + OFF_MAX) / 2 + 1; ++i) {
            w4[wo / 2 + i] = (uint8_t)rnd();
        }
        for (i = 0; i < n; ++i) {
            const int32_t j = wo + i, nib = value(c->wmode, -8, 7, i) & 0xF;
            w4[j >> 1] = (uint8_t)((j & 1) ? (w4[j >> 1] & 0x0F) | (nib << 4)
                                           : (w4[j >> 1] & 0xF0) | nib);
        }
        break;
    }
    switch (c->family) {
    case F_S8:
        r = ref_dot_s8(w8 + wo, x8 + xo, n);
        o = opt_dot_s8(w8 + wo, x8 + xo, n);
        break;
    case F_S4:
        r = ref_dot_s4(w4, wo, x8 + xo, n);
        o = opt_dot_s4(w4, wo, x8 + xo, n);
        break;
    case F_S16:
        r = ref_dot_s16(w16 + wo, x16 + xo, n);
        o = opt_dot_s16(w16 + wo, x16 + xo, n);
        break;
    default:
        r = ref_dot_s8s16(w8 + wo, x16 + xo, n);
        o = opt_dot_s8s16(w8 + wo, x16 + xo, n);
        break;
    }
    if (r == o) {
        return 0;
    }
    printf("MISMATCH %s n=%ld %s=%ld xoff=%ld w=%s x=%s", family_names[c->family], (long)n,
           c->family == F_S4 ? "first" : "woff", (long)wo, (long)xo, mode_names[c->wmode],
           mode_names[c->xmode]);
    print_i64("ref", r);
    print_i64("opt", o);
    printf("\n");
    return 1;
}

int main(void)
{
    static const int32_t longs[] = {127, 128, 129, 255, 256, 257, 511, 512, 513, 1000,
                                    1023, 1024, 1025, 4095, 4096, 4097, 4099};
    static const int32_t huge[F_FAMILIES] = {131071, 131081, 0, 0};
    static const int32_t long_modes[][2] = {{V_ALL_MIN, V_ALL_MIN}, {V_ALL_MIN, V_ALL_MAX},
                                            {V_ALL_MAX, V_ALL_MIN}, {V_ALTERNATE, V_ALTERNATE},
                                            {V_ALTERNATE, V_ALTERNATE_HI}, {V_ENDS, V_ENDS},
                                            {V_RANDOM, V_RANDOM}};
    const int32_t nlong = (int32_t)(sizeof longs / sizeof longs[0]);
    const int32_t nmodes = (int32_t)(sizeof long_modes / sizeof long_modes[0]);
    long dots = 0;
    dot_case c;
    int32_t i, k;
    if (ref_dot_isa()[0] != '\0') {
        printf("FAIL: the reference build has optimized dot products:%s\n", ref_dot_isa());
        return 1;
    }
    for (c.family = 0; c.family < F_FAMILIES; ++c.family) {
        /* every short length with every pair of modes */
        for (c.n = 0; c.n <= 70; ++c.n) {
            for (c.wmode = 0; c.wmode < V_MODES; ++c.wmode) {
                for (c.xmode = 0; c.xmode < V_MODES; ++c.xmode, ++dots) {
                    c.woff = uniform(0, OFF_MAX - 1);
                    c.xoff = uniform(0, OFF_MAX - 1);
                    if (check(&c)) {
                        return 1;
                    }
                }
            }
        }
        /* long ones, with the extremes */
        for (k = 0; k <= nlong; ++k) {
            c.n = k < nlong ? longs[k] : huge[c.family];
            for (i = 0; i < nmodes && c.n > 0; ++i, ++dots) {
                c.wmode = long_modes[i][0];
                c.xmode = long_modes[i][1];
                c.woff = uniform(0, OFF_MAX - 1);
                c.xoff = uniform(0, OFF_MAX - 1);
                if (check(&c)) {
                    return 1;
                }
            }
        }
    }
    for (i = 0; i < CASES; ++i, ++dots) { /* random */
        c.family = (int32_t)(rnd() % F_FAMILIES);
        c.n = uniform(0, rnd() % 4 ? 300 : N16_MAX); /* mostly short */
        c.wmode = (int32_t)(rnd() % V_MODES);
        c.xmode = (int32_t)(rnd() % V_MODES);
        c.woff = uniform(0, OFF_MAX - 1);
        c.xoff = uniform(0, OFF_MAX - 1);
        if (check(&c)) {
            return 1;
        }
    }
    printf("PASS %ld dots; optimized:%s\n", dots, opt_dot_isa());
    return 0;
}

#endif
