/* Drives an emitted model's API with hostile input, checking every status against the contract
 * of wn_model.h and that a rejected call leaves the state byte for byte as it was. Built with
 * sanitizers by tests/codegen/test_api_contract.py.
 *
 *   api_fuzz frames        NaN / infinite frames are refused, huge finite ones run
 *   api_fuzz calls SEED N  N random calls (arguments in and out of range, calls out of order)
 *
 * Prints "ok <calls>" and exits 0 when every status was the expected one. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wn_model.h"

static wn_state g_state, g_before;
static float g_mel[WN_N_MELS];
static int16_t g_pcm[WN_HOP + 4];
static wn_logit_t g_logits[WN_CLASSES];
static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static long g_calls;

static uint32_t next_u32(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng >> 16);
}

static int below(int n) { return (int)(next_u32() % (uint32_t)n); }

static float special(void)
{
    static const float values[] = {1e30f, -1e30f, FLT_MAX, -FLT_MAX, 1e-40f, 0.0f, -0.0f, 65504.0f};
    return values[below((int)(sizeof values / sizeof values[0]))];
}

static void fill_mel(int finite)
{
    int i;
    for (i = 0; i < WN_N_MELS; ++i) {
        g_mel[i] = below(8) == 0 ? special() : (float)below(2001) / 100.0f - 10.0f;
    }
    if (!finite) {
        const float bad[] = {(float)NAN, (float)INFINITY, -(float)INFINITY};
        g_mel[below(WN_N_MELS)] = bad[below(3)];
    }
}

static void expect(const char *call, int got, int want, int unchanged)
{
    ++g_calls;
    if (got != want) {
        fprintf(stderr, "call %ld %s: status %d, expected %d\n", g_calls, call, got, want);
        exit(1);
    }
    if (unchanged && memcmp(&g_state, &g_before, sizeof g_state) != 0) {
        fprintf(stderr, "call %ld %s: refused, but the state changed\n", g_calls, call);
        exit(1);
    }
}

static int frames(void)
{
    const float huge[] = {1e30f, -1e30f, FLT_MAX, -FLT_MAX};
    const float bad[] = {(float)NAN, (float)INFINITY, -(float)INFINITY};
    int i, k;
    expect("wn_init", wn_init(&g_state), WN_OK, 0);
    for (k = 0; k < 3; ++k) {
        for (i = 0; i < WN_N_MELS; ++i) {
            g_mel[i] = (float)i / 10.0f;
        }
        g_mel[k * 7 % WN_N_MELS] = bad[k];
        memcpy(&g_before, &g_state, sizeof g_state);
        expect("wn_push_frame(non-finite)", wn_push_frame(&g_state, g_mel), WN_ERR_INPUT, 1);
    }
    for (k = 0; k < 4; ++k) {
        for (i = 0; i < WN_N_MELS; ++i) {
            g_mel[i] = (i + k) % 2 ? huge[k] : -huge[k];
        }
        expect("wn_push_frame(huge)", wn_push_frame(&g_state, g_mel), WN_OK, 0);
        expect("wn_generate", wn_generate(&g_state, g_pcm, WN_HOP), WN_OK, 0);
    }
    printf("ok %ld\n", g_calls);
    return 0;
}

static int calls(long n)
{
    long k;
    int initialized = 0, remaining = 0;
    memset(&g_state, 0, sizeof g_state);
    for (k = 0; k < n; ++k) {
        const int op = below(18);
        const int refuse_state = !initialized;
        memcpy(&g_before, &g_state, sizeof g_state);
        if (op == 0) {
            expect("wn_init", wn_init(&g_state), WN_OK, 0);
            initialized = 1;
            remaining = 0;
        } else if (op == 1) {
            const int st = wn_reset(&g_state, ((uint64_t)next_u32() << 32) | next_u32());
            expect("wn_reset", st, refuse_state ? WN_ERR_STATE : WN_OK, refuse_state);
            remaining = refuse_state ? remaining : 0;
        } else if (op == 2) {
            const float t[] = {0.0f, 0.5f, 1.0f, 1.3f, WN_MAX_TEMPERATURE, -0.1f, 101.0f,
                               (float)NAN, (float)INFINITY, 1e30f};
            const int i = below(10);
            const int st = wn_set_temperature(&g_state, t[i]);
            expect("wn_set_temperature", st, refuse_state ? WN_ERR_STATE : (i < 5 ? WN_OK : WN_ERR_ARG),
                   refuse_state || i >= 5);
        } else if (op <= 5) {
            const int finite = below(4) != 0, null = below(16) == 0;
            int want = WN_OK;
            fill_mel(finite);
            if (refuse_state) {
                want = WN_ERR_STATE;
            } else if (null) {
                want = WN_ERR_ARG;
            } else if (!finite) {
                want = WN_ERR_INPUT;
            }
            expect("wn_push_frame", wn_push_frame(&g_state, null ? NULL : g_mel), want, want != WN_OK);
            remaining = want == WN_OK ? WN_HOP : remaining;
        } else if (op <= 10) {
            const int count = below(WN_HOP + 3), null = below(16) == 0;
            int want = WN_OK;
            if (refuse_state) {
                want = WN_ERR_STATE;
            } else if (null && count > 0) {
                want = WN_ERR_ARG;
            } else if (count > remaining) {
                want = WN_ERR_NEED_FRAME;
            }
            expect("wn_generate", wn_generate(&g_state, null ? NULL : g_pcm, (size_t)count), want,
                   want != WN_OK);
            remaining -= want == WN_OK ? count : 0;
        } else if (op <= 14) {
            const int x = below(WN_CLASSES + 4) - 2, null = below(16) == 0;
            int want = WN_OK;
            if (refuse_state) {
                want = WN_ERR_STATE;
            } else if (null || x < 0 || x >= WN_CLASSES) {
                want = WN_ERR_ARG;
            } else if (remaining == 0) {
                want = WN_ERR_NEED_FRAME;
            }
            expect("wn_step_logits", wn_step_logits(&g_state, x, null ? NULL : g_logits), want,
                   want != WN_OK);
            remaining -= want == WN_OK ? 1 : 0;
        } else if (op <= 16) {
            /* one stream, or the same state twice (refused: streams must be distinct) */
            wn_state *streams[2] = {&g_state, &g_state};
            const int count = below(WN_HOP + 3), null = below(16) == 0, twice = below(8) == 0;
            int want = WN_OK;
            if (null && count > 0) {
                want = WN_ERR_ARG;
            } else if (refuse_state) {
                want = WN_ERR_STATE;
            } else if (twice) {
                want = WN_ERR_ARG;
            } else if (count > remaining) {
                want = WN_ERR_NEED_FRAME;
            }
            expect("wn_generate_batch", wn_generate_batch(streams, twice ? 2u : 1u,
                                                          null ? NULL : g_pcm, (size_t)count),
                   want, want != WN_OK);
            remaining -= want == WN_OK ? count : 0;
        } else {
            const int32_t c = wn_last_class(&g_state);
            expect("wn_last_class", refuse_state ? c == -1 : (c >= 0 && c < WN_CLASSES), 1, 1);
        }
    }
    /* a null state is refused by every call */
    expect("wn_init(NULL)", wn_init(NULL), WN_ERR_ARG, 0);
    expect("wn_reset(NULL)", wn_reset(NULL, 1u), WN_ERR_ARG, 0);
    expect("wn_set_temperature(NULL)", wn_set_temperature(NULL, 1.0f), WN_ERR_ARG, 0);
    expect("wn_push_frame(NULL)", wn_push_frame(NULL, g_mel), WN_ERR_ARG, 0);
    expect("wn_generate(NULL)", wn_generate(NULL, g_pcm, 1u), WN_ERR_ARG, 0);
    expect("wn_step_logits(NULL)", wn_step_logits(NULL, 0, g_logits), WN_ERR_ARG, 0);
    expect("wn_generate_batch(NULL)", wn_generate_batch(NULL, 1u, g_pcm, 1u), WN_ERR_ARG, 0);
    {
        wn_state *none[1] = {NULL};
        expect("wn_generate_batch({NULL})", wn_generate_batch(none, 1u, g_pcm, 1u), WN_ERR_ARG, 0);
        expect("wn_generate_batch(count 0)", wn_generate_batch(none, 0u, g_pcm, 1u), WN_ERR_ARG, 0);
    }
    expect("wn_last_class(NULL)", wn_last_class(NULL), -1, 0);
    printf("ok %ld\n", g_calls);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "frames") == 0) {
        return frames();
    }
    if (argc == 4 && strcmp(argv[1], "calls") == 0) {
        g_rng ^= (uint64_t)strtoull(argv[2], NULL, 10) * 0x2545F4914F6CDD1Dull;
        return calls(strtol(argv[3], NULL, 10));
    }
    fprintf(stderr, "usage: api_fuzz frames | api_fuzz calls SEED N\n");
    return 2;
}
