/* The int8 add and gate with an ISA's bulk hooks (wn_add_bulk_s8, wn_gate_bulk_s8 of the target's
 * wn_dot_isa.h) against the same kernels built portably (their functions renamed ref_wn_...), for
 * equality: tests/runtime_c/test_eltwise_isa.py builds runtime_c/ref/wn_eltwise_s8.c both ways
 * with the target's toolchain and runs this driver on the target's core.
 *
 * Cases (a fixed PCG stream): every length 0..70 and a few long ones, in place and apart; add
 * parameters as the compiler makes them (inputs shifted left 20, input shifts -23..0 with one of
 * them often 0, output shifts -3..2, zero points anywhere in int8); gate tables trimmed at random
 * ends with random entries, shifts -12..1. -DBREAK hands the ISA build an output zero point one
 * off (the negative control). Prints PASS with the number of outputs that differ from the first
 * of their call (so that saturated runs do not pass unnoticed), or the first mismatch. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "wn_runtime.h"

void ref_wn_add_s8(int8_t *y, const int8_t *a, const int8_t *b, int32_t n, const wn_add_q *q);
void ref_wn_gate_s8(int8_t *y, const int8_t *a, int32_t half, int32_t tanh_at,
                    int32_t sigmoid_at, const wn_lut8 *lut_tanh, const wn_lut8 *lut_sigmoid,
                    const wn_mul_q *q);

#ifndef BREAK
#define BREAK 0
#endif

static uint64_t state = 0x853c49e6748fea9bULL;

static uint32_t next(void)
{
    const uint64_t old = state;
    uint32_t x, r;
    state = old * 6364136223846793005ULL + 1442695040888963407ULL;
    x = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    r = (uint32_t)(old >> 59u);
    return (x >> r) | (x << ((32u - r) & 31u));
}

static int32_t between(int32_t lo, int32_t hi) /* lo..hi */
{
    return lo + (int32_t)(next() % (uint32_t)(hi - lo + 1));
}

static int8_t a[2048], b[2048], y_ref[2048], y_isa[2048], table_t[256], table_s[256];
static long varied;

static int differ(const char *what, int32_t c, int32_t n, const int8_t *want, const int8_t *got)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        if (want[i] != got[i]) {
            printf("MISMATCH %s case=%d n=%d i=%d ref=%d isa=%d\n", what, (int)c, (int)n, (int)i,
                   (int)want[i], (int)got[i]);
            return 1;
        }
        varied += want[i] != want[0];
    }
    return 0;
}

int main(void)
{
    int32_t c, i;
    for (c = 0; c < 600; ++c) {
        const int32_t n = c < 71 * 4 ? c / 4 : between(71, 1000);
        const int in_place = c % 2;
        wn_add_q q;
        wn_mul_q g;
        wn_lut8 lt, ls;
        for (i = 0; i < 2 * n; ++i) {
            a[i] = (int8_t)between(-128, 127);
            b[i] = (int8_t)between(-128, 127);
        }
        q.left_shift = 20;
        q.a_mult = between(1 << 30, 0x7FFFFFFF);
        q.b_mult = between(1 << 30, 0x7FFFFFFF);
        q.out_mult = between(1 << 30, 0x7FFFFFFF);
        /* shifts 0 and -12..0 (as models have them), and -23..-20: x86-vnni's 32-bit input
         * rescale on both sides of 2^16 and outside its range (31 - shift - 20 > 31) */
        q.a_shift = next() % 2 ? between(-12, 0) : between(-3, 0) - 20;
        q.b_shift = next() % 2 ? between(-12, 0) : between(-3, 0) - 20;
        q.out_shift = between(-3, 2);
        q.zp_a = between(-128, 127);
        q.zp_b = between(-128, 127);
        q.zp_out = between(-128, 127);
        memcpy(y_ref, a, (size_t)n);
        memcpy(y_isa, a, (size_t)n);
        ref_wn_add_s8(y_ref, in_place ? y_ref : a, b, n, &q);
        q.zp_out += BREAK;
        wn_add_s8(y_isa, in_place ? y_isa : a, b, n, &q);
        if (differ("add", c, n, y_ref, y_isa)) {
            return 1;
        }
        lt.first = between(0, 200);
        lt.last = between(lt.first, 255);
        ls.first = between(0, 200);
        ls.last = between(ls.first, 255);
        for (i = 0; i < 256; ++i) {
            table_t[i] = (int8_t)between(-128, 127);
            table_s[i] = (int8_t)between(-128, 127);
        }
        lt.values = table_t;
        ls.values = table_s;
        g.mult = between(1 << 30, 0x7FFFFFFF);
        g.shift = between(-12, 1);
        g.zp_a = between(-128, 127);
        g.zp_b = between(-128, 127);
        g.zp_out = between(-128, 127);
        g.c = 0;
        ref_wn_gate_s8(y_ref, a, n, 0, n, &lt, &ls, &g);
        g.zp_out += BREAK;
        wn_gate_s8(y_isa, a, n, 0, n, &lt, &ls, &g);
        if (differ("gate", c, n, y_ref, y_isa)) {
            return 1;
        }
    }
    printf("PASS %ld\n", varied);
    return 0;
}
