/* Optimized integer convolutions against the reference kernels, for equality (integer sums are
 * exact, so any difference is a bug). Runs on the core it tests (qemu-user or bare metal with
 * semihosting); the cases are generated here from a fixed seed, so nothing is read from files.
 *
 * Build (tests/runtime_c/test_optimized.py does this): the optimized files as they are, the
 * reference files of runtime_c/ref renamed with -Dwn_conv_s8=ref_wn_conv_s8 (and _ring_, t_),
 * this file with -DWN_TEST_S8 / -DWN_TEST_S8S16 / -DWN_TEST_S16 / -DWN_TEST_S4 for the families to
 * check.
 *
 * Every case: a random shape (cin and cout from a list of odd, tiny, vector-width +-1 and large
 * sizes), weights at the range ends or random, activations at the range ends (what a ring holds
 * after it was filled with an extreme input zero point) or random, output zero point at either end
 * or zero, and requantization either random, saturating, or with biases chosen so that every
 * accumulator is an exact tie (negative and positive) of the rounding. Pointwise, ring (several
 * steps, past a wrap of the ring) and transposed convolutions; outputs, ring contents and the
 * ring position must be identical. Prints one PASS line and returns 0, or the first mismatch and 1. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "wn_runtime.h"

#ifndef CASES
#define CASES 120
#endif
#ifndef SEED
#define SEED 0x2545F491u
#endif
#define W_MAX 20000 /* weights of one case (cout * kernel * cin and hop * cout * cin) */
#define X_MAX 20000 /* activations of one ring (ring_len * cin) */
#define COUT_MAX 40
#define STEPS_MAX 12
#define HOP_MAX 4 /* make_case: hop in 1 .. 4 */

#define WN_REF_DECLS(sfx, wt, xt)                                                                \
    void ref_wn_conv_##sfx(xt *y, const xt *x, const wt *w, const wn_rq *q, int32_t cin,          \
                           int32_t cout);                                                         \
    void ref_wn_conv_ring_##sfx(xt *y, xt *ring, int32_t *pos, const xt *x, const wt *w,         \
                                const wn_rq *q, int32_t cin, int32_t cout, int32_t kernel,       \
                                int32_t dilation, int32_t ring_len);                              \
    void ref_wn_convt_##sfx(xt *table, const xt *x, const wt *w, const wn_rq *q, int32_t cin,    \
                            int32_t cout, int32_t hop);

/* ---------------------------------------------------------------- random numbers, cases */

#include "harness_values.h"

enum { Q_RANDOM, Q_TIES, Q_SATURATE, Q_MODES };

typedef struct {
    int32_t cin, cout, kernel, dilation, ring_len, hop, steps;
    int32_t wmode, xmode, qmode, zp_choice;
} wn_case;

static void make_case(wn_case *c, int32_t index)
{
    static const int32_t cins[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 24, 31, 32, 33,
                                   63, 64, 65, 127, 128, 129, 255, 256, 257, 1000, 4099};
    static const int32_t couts[] = {1, 2, 3, 5, 8, 17, 32, 33};
    const int32_t ncin = (int32_t)(sizeof cins / sizeof cins[0]);
    c->cin = index < ncin ? cins[index] : (rnd() & 1 ? cins[rnd() % ncin] : uniform(1, 300));
    c->cout = couts[rnd() % (sizeof couts / sizeof couts[0])];
    c->kernel = uniform(1, 3);
    c->dilation = uniform(1, 4);
    c->hop = uniform(1, 4);
    while (c->cout * c->kernel * c->cin > W_MAX || c->hop * c->cout * c->cin > W_MAX) {
        if (c->cout > 1) {
            c->cout = (c->cout + 1) / 2;
        } else {
            c->kernel = 1;
            c->hop = 1;
        }
    }
    while (((c->kernel - 1) * c->dilation + 1) * c->cin > X_MAX) {
        c->dilation -= 1;
    }
    c->ring_len = (c->kernel - 1) * c->dilation + 1;
    c->steps = c->ring_len + 2 < STEPS_MAX ? c->ring_len + 2 : STEPS_MAX;
    c->wmode = (int32_t)(rnd() % V_MODES);
    c->xmode = (int32_t)(rnd() % V_MODES);
    c->qmode = (int32_t)(rnd() % Q_MODES);
    c->zp_choice = (int32_t)(rnd() % 4);
}

/* requantization of output o: random, saturating the output type (left shifts), or an exact tie
 * via the bias: with mult = 2^30 and shift = -r every rounding (double, single, int64) divides the
 * accumulator by 2^(r+1), so acc = (2k+1) * 2^r lands exactly halfway. The shift never lets the
 * rescaled accumulator reach the int32 limits (|acc| < 2^acc_bits): there the reference's
 * requant + zp_out would overflow int32 (undefined), so no kernel can be held to it. */
static void make_quant(int32_t qmode, int32_t acc_bits, int32_t *mult, int32_t *shift, int64_t *tie)
{
    const int32_t max_shift = 29 - acc_bits;
    if (qmode == Q_TIES) {
        const int32_t r = uniform(1, 12);
        *mult = 1 << 30;
        *shift = -r;
        *tie = (2 * (int64_t)uniform(-100, 60) + 1) * ((int64_t)1 << r);
    } else {
        *mult = (int32_t)((1u << 30) + (rnd() & 0x3FFFFFFFu));
        *shift = qmode == Q_SATURATE ? uniform(2, 12) : uniform(-24, 0);
        *shift = *shift < max_shift ? *shift : max_shift;
        *tie = 0;
    }
}

/* bits of a bound on |acc|: the bias bound plus n products of the largest magnitudes */
static int32_t acc_bits(int64_t n, int64_t wabs, int64_t xabs)
{
    const int64_t bound = ((int64_t)1 << 20) + n * wabs * xabs;
    int32_t bits = 0;
    while (((int64_t)1 << bits) <= bound) {
        ++bits;
    }
    return bits;
}

static int32_t zero_point(int32_t choice, int32_t lo, int32_t hi)
{
    return choice == 0 ? lo : (choice == 1 ? hi : (choice == 2 ? 0 : uniform(lo, hi)));
}

static void report(const char *fn, int32_t index, const wn_case *c, const char *what, int32_t at,
                   long got, long want)
{
    printf("MISMATCH %s case %ld (cin %ld cout %ld kernel %ld dilation %ld hop %ld wmode %ld "
           "xmode %ld qmode %ld): %s[%ld] = %ld, reference %ld\n",
           fn, (long)index, (long)c->cin, (long)c->cout, (long)c->kernel, (long)c->dilation,
           (long)c->hop, (long)c->wmode, (long)c->xmode, (long)c->qmode, what, (long)at, got, want);
}

/* ---------------------------------------------------------------- weight storage per family */

#if defined(WN_TEST_S8) || defined(WN_TEST_S8S16)
static void set_w_s8(int8_t *w, int32_t j, int32_t v) { w[j] = (int8_t)v; }
static int32_t get_w_s8(const int8_t *w, int32_t j) { return w[j]; }
#endif

#ifdef WN_TEST_S16
static void set_w_s16(int16_t *w, int32_t j, int32_t v) { w[j] = (int16_t)v; }
static int32_t get_w_s16(const int16_t *w, int32_t j) { return w[j]; }
#endif

#ifdef WN_TEST_S4
/* int4: element j in byte j / 2, low nibble when j is even (runtime_c/ref/wn_dot.h) */
static void set_w_s4(uint8_t *w, int32_t j, int32_t v)
{
    const uint8_t nib = (uint8_t)(v & 0xF);
    w[j >> 1] = (j & 1) ? (uint8_t)((w[j >> 1] & 0x0F) | (nib << 4)) : (uint8_t)((w[j >> 1] & 0xF0) | nib);
}
static int32_t get_w_s4(const uint8_t *w, int32_t j)
{
    const int32_t nib = (j & 1) ? (w[j >> 1] >> 4) : (w[j >> 1] & 0xF);
    return (nib ^ 8) - 8;
}
#endif

/* ---------------------------------------------------------------- one family, three kernels */

#define WN_FAMILY(sfx, wt, xt, acct, XMIN, XMAX, WMIN, WMAX, SET_W, GET_W)                       \
    WN_REF_DECLS(sfx, wt, xt)                                                                    \
    static wt w_##sfx[W_MAX];                                                                    \
    static xt x_##sfx[X_MAX], ring_##sfx[X_MAX], ring_ref_##sfx[X_MAX];                          \
    static xt y_##sfx[W_MAX], y_ref_##sfx[W_MAX];                                                \
    static acct bias_##sfx[COUT_MAX * HOP_MAX];                                                  \
    static int32_t mult_##sfx[COUT_MAX];                                                         \
    static int8_t shift_##sfx[COUT_MAX];                                                         \
    static int64_t tie_##sfx[COUT_MAX];                                                          \
                                                                                                 \
    static int compare_##sfx(const char *fn, int32_t index, const wn_case *c, const char *what,  \
                             const xt *got, const xt *want, int32_t n)                           \
    {                                                                                            \
        int32_t i;                                                                               \
        for (i = 0; i < n; ++i) {                                                                \
            if (got[i] != want[i]) {                                                             \
                report(fn, index, c, what, i, (long)got[i], (long)want[i]);                      \
                return 1;                                                                        \
            }                                                                                    \
        }                                                                                        \
        return 0;                                                                                \
    }                                                                                            \
                                                                                                 \
    /* quantization per output; a tie sets the bias to (tie - sum of the products) */            \
    static void quant_##sfx(const wn_case *c, int32_t cout)                                      \
    {                                                                                            \
        int32_t o;                                                                               \
        for (o = 0; o < cout; ++o) {                                                             \
            int32_t shift;                                                                       \
            make_quant(c->qmode, acc_bits((int64_t)c->cin * c->kernel, -(WMIN), -(XMIN)),           \
                       &mult_##sfx[o], &shift, &tie_##sfx[o]);                                   \
            shift_##sfx[o] = (int8_t)shift;                                                      \
            bias_##sfx[o] = (acct)uniform(-(1 << 20), 1 << 20);                                  \
        }                                                                                        \
    }                                                                                            \
                                                                                                 \
    static int64_t dot_##sfx(int32_t first, const xt *x, int32_t n)                              \
    {                                                                                            \
        int64_t acc = 0;                                                                         \
        int32_t i;                                                                               \
        for (i = 0; i < n; ++i) {                                                                \
            acc += (int64_t)GET_W(w_##sfx, first + i) * x[i];                                    \
        }                                                                                        \
        return acc;                                                                              \
    }                                                                                            \
                                                                                                 \
    static int check_##sfx(const wn_case *c, int32_t index)                                      \
    {                                                                                            \
        const int32_t cin = c->cin, cout = c->cout;                                              \
        const int32_t zp = zero_point(c->zp_choice, XMIN, XMAX);                                 \
        const int32_t nw = cout * cin * (c->kernel > c->hop ? c->kernel : c->hop);               \
        const wn_rq q = {bias_##sfx, mult_##sfx, shift_##sfx, zp, (int32_t)sizeof(acct), 1};     \
        int32_t i, o, s, k, pos, pos_ref;                                                        \
        memset(w_##sfx, 0, sizeof w_##sfx);                                                      \
        for (i = 0; i < nw; ++i) {                                                               \
            SET_W(w_##sfx, i, value(c->wmode, WMIN, WMAX, i));                                   \
        }                                                                                        \
        for (i = 0; i < cin; ++i) {                                                              \
            x_##sfx[i] = (xt)value(c->xmode, XMIN, XMAX, i);                                     \
        }                                                                                        \
        /* pointwise */                                                                          \
        quant_##sfx(c, cout);                                                                    \
        for (o = 0; o < cout; ++o) {                                                             \
            if (c->qmode == Q_TIES) {                                                            \
                bias_##sfx[o] = (acct)(tie_##sfx[o] - dot_##sfx(o * cin, x_##sfx, cin));         \
            }                                                                                    \
        }                                                                                        \
        wn_conv_##sfx(y_##sfx, x_##sfx, w_##sfx, &q, cin, cout);                                 \
        ref_wn_conv_##sfx(y_ref_##sfx, x_##sfx, w_##sfx, &q, cin, cout);                         \
        if (compare_##sfx("wn_conv_" #sfx, index, c, "y", y_##sfx, y_ref_##sfx, cout)) {         \
            return 1;                                                                            \
        }                                                                                        \
        /* transposed: a bias per row p and output o (bias[p * cout + o]; the input zero point  \
         * fold differs per row), here row 0's repeated, so ties hold on row 0 */                \
        for (o = cout; o < c->hop * cout; ++o) {                                                 \
            bias_##sfx[o] = bias_##sfx[o % cout];                                                \
        }                                                                                        \
        wn_convt_##sfx(y_##sfx, x_##sfx, w_##sfx, &q, cin, cout, c->hop);                        \
        ref_wn_convt_##sfx(y_ref_##sfx, x_##sfx, w_##sfx, &q, cin, cout, c->hop);                \
        if (compare_##sfx("wn_convt_" #sfx, index, c, "table", y_##sfx, y_ref_##sfx,            \
                          c->hop * cout)) {                                                      \
            return 1;                                                                            \
        }                                                                                        \
        /* ring: filled with an input zero point, then steps past a wrap */                      \
        {                                                                                        \
            const xt zp_in = (xt)value(c->xmode, XMIN, XMAX, 0);                                 \
            for (i = 0; i < c->ring_len * cin; ++i) {                                            \
                ring_##sfx[i] = ring_ref_##sfx[i] = zp_in;                                       \
            }                                                                                    \
        }                                                                                        \
        pos = pos_ref = uniform(0, c->ring_len - 1);                                             \
        for (s = 0; s < c->steps; ++s) {                                                         \
            const int32_t p = pos + 1 == c->ring_len ? 0 : pos + 1;                              \
            for (i = 0; i < cin; ++i) {                                                          \
                x_##sfx[i] = (xt)value(c->xmode, XMIN, XMAX, i + s);                             \
            }                                                                                    \
            quant_##sfx(c, cout);                                                                \
            for (o = 0; o < cout && c->qmode == Q_TIES; ++o) {                                   \
                int64_t acc = 0;                                                                 \
                for (k = 0; k < c->kernel; ++k) {                                                \
                    int32_t row = p - (c->kernel - 1 - k) * c->dilation;                         \
                    row += row < 0 ? c->ring_len : 0;                                            \
                    acc += dot_##sfx((o * c->kernel + k) * cin,                                  \
                                     row == p ? x_##sfx : ring_ref_##sfx + row * cin, cin);      \
                }                                                                                \
                bias_##sfx[o] = (acct)(tie_##sfx[o] - acc);                                      \
            }                                                                                    \
            wn_conv_ring_##sfx(y_##sfx, ring_##sfx, &pos, x_##sfx, w_##sfx, &q, cin, cout,       \
                               c->kernel, c->dilation, c->ring_len);                             \
            ref_wn_conv_ring_##sfx(y_ref_##sfx, ring_ref_##sfx, &pos_ref, x_##sfx, w_##sfx, &q,  \
                                   cin, cout, c->kernel, c->dilation, c->ring_len);              \
            if (pos != pos_ref) {                                                                \
                report("wn_conv_ring_" #sfx, index, c, "pos", 0, (long)pos, (long)pos_ref);      \
                return 1;                                                                        \
            }                                                                                    \
            if (compare_##sfx("wn_conv_ring_" #sfx, index, c, "y", y_##sfx, y_ref_##sfx, cout)   \
                || compare_##sfx("wn_conv_ring_" #sfx, index, c, "ring", ring_##sfx,             \
                                 ring_ref_##sfx, c->ring_len * cin)) {                           \
                return 1;                                                                        \
            }                                                                                    \
        }                                                                                        \
        return 0;                                                                                \
    }

#ifdef WN_TEST_S8
WN_FAMILY(s8, int8_t, int8_t, int32_t, -128, 127, -128, 127, set_w_s8, get_w_s8)
#endif
#ifdef WN_TEST_S8S16
WN_FAMILY(s8s16, int8_t, int16_t, int64_t, -32768, 32767, -128, 127, set_w_s8, get_w_s8)
#endif
#ifdef WN_TEST_S16
WN_FAMILY(s16, int16_t, int16_t, int64_t, -32768, 32767, -32767, 32767, set_w_s16, get_w_s16)
#endif
#ifdef WN_TEST_S4
WN_FAMILY(s4, uint8_t, int8_t, int32_t, -128, 127, -8, 7, set_w_s4, get_w_s4)
#endif

/* ---------------------------------------------------------------- main */

int main(void)
{
    int32_t i;
    int failed = 0;
    for (i = 0; i < CASES && !failed; ++i) {
        wn_case c;
        make_case(&c, i);
#ifdef WN_TEST_S8
        failed |= check_s8(&c, i);
#endif
#ifdef WN_TEST_S8S16
        failed |= check_s8s16(&c, i);
#endif
#ifdef WN_TEST_S16
        failed |= check_s16(&c, i);
#endif
#ifdef WN_TEST_S4
        failed |= check_s4(&c, i);
#endif
    }
    if (failed) {
        printf("FAIL\n");
        return 1;
    }
    printf("PASS %ld cases:%s%s%s%s\n", (long)CASES,
#ifdef WN_TEST_S8
           " s8",
#else
           "",
#endif
#ifdef WN_TEST_S8S16
           " s8s16",
#else
           "",
#endif
#ifdef WN_TEST_S16
           " s16",
#else
           "",
#endif
#ifdef WN_TEST_S4
           " s4"
#else
           ""
#endif
    );
    return 0;
}
