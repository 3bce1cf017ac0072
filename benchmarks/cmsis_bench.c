/* Driver of benchmarks/cmsis_compare.py: one fully connected layer (a pointwise convolution of one
 * time step) computed by wncc's kernels and by CMSIS-NN's, each REPS times between marker
 * functions that the instruction counter (wncc/counting.py) brackets, each output checked equal
 * to wncc's portable reference kernel (ref_wn_conv_s8: runtime_c/ref/wn_conv_s8.c built with the
 * portable dot products and its functions renamed).
 *
 * The layer's data comes from cmsis_case.h (written by the script): W [COUT][CIN] int8, X [CIN],
 * the input offset XOFF (CMSIS-NN adds it to every input; wncc folds it into the biases at
 * compile time: B_FOLDED = B + XOFF * sum w), per-channel MULT and SHIFT, the output zero point
 * ZP, and wncc's packed tables W_PK, B_PK, MULT_PK, SHIFT_PK (wncc.ops.layout.packed_entries)
 * for the target's layout, whose kernel is WN_PACKED (wn_conv_dsp4_s8, wn_conv_mve4_s8).
 *
 * Regions: packed (wncc, packed layout), wncc (wncc, reference layout: the target's multi-row dot
 * products), fc (arm_fully_connected_s8, per-tensor: MULT[0], SHIFT[0] for every channel), fc_pc
 * (arm_fully_connected_per_channel_s8). wncc runs per-channel; per-tensor wncc differs only in
 * reading one multiplier. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arm_nnfunctions.h"
#include "wn_runtime.h"
#include "cmsis_case.h"

#ifndef REPS
#define REPS 10
#endif

void ref_wn_conv_s8(int8_t *y, const int8_t *x, const int8_t *w, const wn_rq *q, int32_t cin,
                    int32_t cout);

volatile int32_t wn_bench_marker;
#define WN_MARKERS(name)                                                                        \
    __attribute__((noinline)) void wn_bench_##name##_begin(void) { wn_bench_marker = __LINE__; } \
    __attribute__((noinline)) void wn_bench_##name##_end(void) { wn_bench_marker = __LINE__; }
WN_MARKERS(packed)
WN_MARKERS(wncc)
WN_MARKERS(fc)
WN_MARKERS(fc_pc)

static int8_t want_pc[COUT], want_pt[COUT], got[COUT];
static int32_t kernel_sum[COUT], shift32[COUT], mult_pt[COUT];
static int8_t shift_pt[COUT];

static int same(const char *what, const int8_t *want)
{
    int32_t o;
    for (o = 0; o < COUT; ++o) {
        if (got[o] != want[o]) {
            printf("MISMATCH %s row %d: %d, reference %d\n", what, (int)o, (int)got[o],
                   (int)want[o]);
            return 0;
        }
    }
    memset(got, 0, sizeof got);
    return 1;
}

int main(void)
{
    const wn_rq rq_pc = {B_FOLDED, MULT, SHIFT, ZP, 4, 1};
    const wn_rq rq_pk = {B_PK, MULT_PK, SHIFT_PK, ZP, 4, 1};
    cmsis_nn_context ctx = {kernel_sum, (int32_t)sizeof kernel_sum};
    cmsis_nn_fc_params fc = {XOFF, 0, ZP, {-128, 127}};
    cmsis_nn_per_tensor_quant_params pt = {MULT[0], SHIFT[0]};
    cmsis_nn_per_channel_quant_params pc = {(int32_t *)MULT, shift32};
    cmsis_nn_dims in_dims = {1, 1, 1, CIN}, filter_dims = {CIN, 1, 1, COUT};
    cmsis_nn_dims bias_dims = {1, 1, 1, COUT}, out_dims = {1, 1, 1, COUT};
    int32_t o, r;
    for (o = 0; o < COUT; ++o) {
        shift32[o] = SHIFT[o];
        mult_pt[o] = MULT[0];
        shift_pt[o] = SHIFT[0];
    }
    {
        const wn_rq rq_pt = {B_FOLDED, mult_pt, shift_pt, ZP, 4, 1};
        ref_wn_conv_s8(want_pc, X, W, &rq_pc, CIN, COUT);
        ref_wn_conv_s8(want_pt, X, W, &rq_pt, CIN, COUT);
    }
#if defined(ARM_MATH_MVEI)
    /* Helium: the kernel sums are made once, outside the counted region (as at model load) */
    arm_vector_sum_s8(kernel_sum, CIN, COUT, W, XOFF, 0, B);
#endif

    wn_bench_packed_begin();
    for (r = 0; r < REPS; ++r) {
        WN_PACKED(got, X, W_PK, &rq_pk, CIN, COUT);
    }
    wn_bench_packed_end();
    if (!same("wncc packed", want_pc)) {
        return 1;
    }
    wn_bench_wncc_begin();
    for (r = 0; r < REPS; ++r) {
        wn_conv_s8(got, X, W, &rq_pc, CIN, COUT);
    }
    wn_bench_wncc_end();
    if (!same("wncc", want_pc)) {
        return 1;
    }
    wn_bench_fc_begin();
    for (r = 0; r < REPS; ++r) {
        arm_fully_connected_s8(&ctx, &fc, &pt, &in_dims, X, &filter_dims, W, &bias_dims, B,
                               &out_dims, got);
    }
    wn_bench_fc_end();
    if (!same("arm_fully_connected_s8", want_pt)) {
        return 1;
    }
#if defined(ARM_MATH_MVEI)
    arm_vector_sum_s8(kernel_sum, CIN, COUT, W, XOFF, 0, B);
#endif
    wn_bench_fc_pc_begin();
    for (r = 0; r < REPS; ++r) {
        arm_fully_connected_per_channel_s8(&ctx, &fc, &pc, &in_dims, X, &filter_dims, W,
                                           &bias_dims, B, &out_dims, got);
    }
    wn_bench_fc_pc_end();
    if (!same("arm_fully_connected_per_channel_s8", want_pc)) {
        return 1;
    }
    printf("PASS\n");
    return 0;
}
