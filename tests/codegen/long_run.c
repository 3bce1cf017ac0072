/* A long teacher-forced run through one wn_state: FRAMES frames of mel and classes made by a
 * counter-based hash (so Python can recreate any window of them), the logits of the last TAIL
 * frames written to OUT. Built by tests/codegen/test_long_run.py.
 *
 *   long_run FRAMES TAIL OUT   -> prints "ok <samples>" */
#include <stdio.h>
#include <stdlib.h>

#include "wn_model.h"

static wn_state g_state;

/* splitmix64 of a counter: the inputs at any position without running the ones before */
static uint64_t mix(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int main(int argc, char **argv)
{
    long frames, tail, f, samples = 0;
    FILE *out;
    float mel[WN_N_MELS];
    wn_logit_t logits[WN_CLASSES];
    int32_t i;
    if (argc != 4) {
        fprintf(stderr, "usage: long_run FRAMES TAIL OUT\n");
        return 2;
    }
    frames = atol(argv[1]);
    tail = atol(argv[2]);
    out = fopen(argv[3], "wb");
    if (out == NULL || wn_init(&g_state) != WN_OK) {
        return 2;
    }
    for (f = 0; f < frames; ++f) {
        for (i = 0; i < WN_N_MELS; ++i) {
            mel[i] = (float)(mix(((uint64_t)f << 8) | (uint64_t)i) % 2001u) / 200.0f - 5.0f;
        }
        if (wn_push_frame(&g_state, mel) != WN_OK) {
            return 1;
        }
        for (i = 0; i < WN_HOP; ++i) {
            const int32_t x = (int32_t)(mix(0x8000000000000000ull | (uint64_t)samples) % WN_CLASSES);
            if (wn_step_logits(&g_state, x, logits) != WN_OK) {
                return 1;
            }
            samples += 1;
            if (f >= frames - tail && fwrite(logits, sizeof logits, 1, out) != 1) {
                return 1;
            }
        }
    }
    fclose(out);
    printf("ok %ld\n", samples);
    return 0;
}
