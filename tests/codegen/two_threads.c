/* Two wn_states on two threads at once, then the same two runs one after the other: the bytes
 * must agree (the library has no writable global state). Built with ThreadSanitizer by
 * tests/codegen/test_long_run.py.   two_threads FRAMES  -> prints "ok" */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wn_model.h"

#define MAX_FRAMES 64

typedef struct {
    wn_state state;
    uint64_t seed;
    long frames;
    int16_t pcm[MAX_FRAMES * WN_HOP];
    int status;
} job;

static job g_jobs[2], g_alone[2];

static void *run(void *arg)
{
    job *j = (job *)arg;
    float mel[WN_N_MELS];
    long f;
    int32_t i;
    j->status = wn_init(&j->state) | wn_reset(&j->state, j->seed);
    for (f = 0; f < j->frames && j->status == WN_OK; ++f) {
        for (i = 0; i < WN_N_MELS; ++i) {
            mel[i] = (float)((f * 31 + i * 7 + (long)j->seed) % 97) / 10.0f - 4.0f;
        }
        j->status = wn_push_frame(&j->state, mel) | wn_generate(&j->state, j->pcm + f * WN_HOP, WN_HOP);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t threads[2];
    long frames = argc > 1 ? atol(argv[1]) : 8;
    int k;
    if (frames < 1 || frames > MAX_FRAMES) {
        return 2;
    }
    for (k = 0; k < 2; ++k) {
        g_jobs[k].seed = g_alone[k].seed = (uint64_t)(k + 1);
        g_jobs[k].frames = g_alone[k].frames = frames;
    }
    for (k = 0; k < 2; ++k) {
        if (pthread_create(&threads[k], NULL, run, &g_jobs[k]) != 0) {
            return 2;
        }
    }
    for (k = 0; k < 2; ++k) {
        pthread_join(threads[k], NULL);
    }
    for (k = 0; k < 2; ++k) {
        run(&g_alone[k]);
        if (g_jobs[k].status != WN_OK || g_alone[k].status != WN_OK ||
            memcmp(g_jobs[k].pcm, g_alone[k].pcm, sizeof g_jobs[k].pcm) != 0) {
            fprintf(stderr, "thread %d differs from its sequential run\n", k);
            return 1;
        }
    }
    if (memcmp(g_jobs[0].pcm, g_jobs[1].pcm, sizeof g_jobs[0].pcm) == 0) {
        fprintf(stderr, "two seeds gave the same audio\n");
        return 1;
    }
    printf("ok\n");
    return 0;
}
