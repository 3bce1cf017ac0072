/* PCG32 (XSH-RR) and Gumbel-max sampling; the stream is part of wncc's specification. */
#include "wn_runtime.h"

uint32_t wn_pcg32_next(wn_pcg32 *rng)
{
    const uint64_t old = rng->state;
    uint32_t xorshifted, rot;
    rng->state = old * 6364136223846793005ULL + rng->inc;
    xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((0u - rot) & 31u));
}

void wn_pcg32_seed(wn_pcg32 *rng, uint64_t seed, uint64_t stream)
{
    rng->state = 0u;
    rng->inc = (stream << 1u) | 1u;
    (void)wn_pcg32_next(rng);
    rng->state += seed;
    (void)wn_pcg32_next(rng);
}

/* temperature 0: argmax, no draws; otherwise argmax of logit + temperature * gumbel[u >> 22]
 * with one draw per class in order. Ties go to the lowest class. */
int32_t wn_sample_f32(const float *logits, int32_t n, float temperature, wn_pcg32 *rng,
                      const float *gumbel)
{
    int32_t best = 0, c;
    float best_score = logits[0];
    if (temperature == 0.0f) {
        for (c = 1; c < n; ++c) {
            if (logits[c] > best_score) {
                best_score = logits[c];
                best = c;
            }
        }
        return best;
    }
    for (c = 0; c < n; ++c) {
        const uint32_t u = wn_pcg32_next(rng);
        const float noise = temperature * gumbel[u >> (32 - WN_GUMBEL_BITS)];
        const float score = logits[c] + noise;
        if (c == 0 || score > best_score) {
            best_score = score;
            best = c;
        }
    }
    return best;
}
