/* PCG32 (XSH-RR), the cdf and Gumbel-max class samplers, the mixture-of-logistics and Gaussian
 * heads and 16-bit PCM; the stream and the arithmetic are wncc's specification
 * (wncc/arith/sampling.py, wncc/arith/heads.py). */
#include "wn_mathf.h"
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

/* ---- the cdf sampler: one draw against the classes' cumulative weights ---- */

/* round(2^15 exp(-x)) for x >= 0 (float32 steps); 0 for x >= 40 or NaN */
static uint32_t wn_cdf_weight(float x)
{
    if (!(x < 40.0f)) {
        return 0u;
    }
    return (uint32_t)(wn_exp_neg(-x) * 32768.0f + 0.5f);
}

/* table[i] = the weight of a class (i * unit) logit steps of `step` below the largest */
void wn_cdf_table(uint32_t *table, int32_t n, float step, int32_t unit)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        table[i] = wn_cdf_weight(step * (float)(i * unit));
    }
}

/* uniform in [0, n) for n >= 1: Lemire's multiply-and-reject on 32-bit draws */
static uint32_t wn_below(wn_pcg32 *rng, uint32_t n)
{
    uint64_t m = (uint64_t)wn_pcg32_next(rng) * n;
    if ((uint32_t)m < n) {
        const uint32_t threshold = (0u - n) % n;
        while ((uint32_t)m < threshold) {
            m = (uint64_t)wn_pcg32_next(rng) * n;
        }
    }
    return (uint32_t)(m >> 32);
}

/* the first largest of n floats (NaNs never win over logits[0]) */
static int32_t wn_first_max_f32(const float *logits, int32_t n)
{
    int32_t best = 0, c;
    for (c = 1; c < n; ++c) {
        if (logits[c] > logits[best]) {
            best = c;
        }
    }
    return best;
}

/* temperature 0: the first largest logit, no draws; otherwise class c with probability
 * weight(c) / total, weight(c) = wn_cdf_weight((max - logit[c]) * (1 / temperature)) */
int32_t wn_sample_cdf_f32(const float *logits, int32_t n, float temperature, wn_pcg32 *rng)
{
    const int32_t best = wn_first_max_f32(logits, n);
    const float top = logits[best];
    float inv;
    uint32_t total = 0u, r;
    int32_t c;
    if (temperature == 0.0f) {
        return best;
    }
    inv = 1.0f / temperature;
    for (c = 0; c < n; ++c) {
        total += wn_cdf_weight((top - logits[c]) * inv);
    }
    if (total == 0u) {
        return best;
    }
    r = wn_below(rng, total);
    for (c = 0; c < n - 1; ++c) {
        const uint32_t w = wn_cdf_weight((top - logits[c]) * inv);
        if (r < w) {
            return c;
        }
        r -= w;
    }
    return n - 1;
}

/* 8-bit logits: weight(c) = lo[max - q[c]]; lo NULL is greedy (temperature 0) */
int32_t wn_sample_cdf_s8(const int8_t *logits, int32_t n, const uint32_t *lo, wn_pcg32 *rng)
{
    int32_t best = 0, c;
    uint32_t total = 0u, r;
    for (c = 1; c < n; ++c) {
        if (logits[c] > logits[best]) {
            best = c;
        }
    }
    if (lo == NULL) {
        return best;
    }
    for (c = 0; c < n; ++c) {
        total += lo[logits[best] - logits[c]];
    }
    if (total == 0u) {
        return best;
    }
    r = wn_below(rng, total);
    for (c = 0; c < n - 1; ++c) {
        const uint32_t w = lo[logits[best] - logits[c]];
        if (r < w) {
            return c;
        }
        r -= w;
    }
    return n - 1;
}

/* 16-bit logits, d = max - q[c] in 0..65535: weight = (hi[d >> 8] * lo[d & 255] + 2^14) >> 15 */
static uint32_t wn_cdf_weight16(const uint32_t *lo, const uint32_t *hi, int32_t d)
{
    return (hi[d >> 8] * lo[d & 255] + 16384u) >> 15;
}

int32_t wn_sample_cdf_s16(const int16_t *logits, int32_t n, const uint32_t *lo,
                          const uint32_t *hi, wn_pcg32 *rng)
{
    int32_t best = 0, c;
    uint32_t total = 0u, r;
    for (c = 1; c < n; ++c) {
        if (logits[c] > logits[best]) {
            best = c;
        }
    }
    if (lo == NULL) {
        return best;
    }
    for (c = 0; c < n; ++c) {
        total += wn_cdf_weight16(lo, hi, (int32_t)logits[best] - logits[c]);
    }
    if (total == 0u) {
        return best;
    }
    r = wn_below(rng, total);
    for (c = 0; c < n - 1; ++c) {
        const uint32_t w = wn_cdf_weight16(lo, hi, (int32_t)logits[best] - logits[c]);
        if (r < w) {
            return c;
        }
        r -= w;
    }
    return n - 1;
}

/* ---- Gumbel-max ---- */

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

/* 2 (r >> 9) + 1 in units of 2^-24: a uniform in (0, 1), exact in float */
static float wn_uniform_open(uint32_t r)
{
    return (float)(int32_t)(2u * (r >> 9) + 1u) * 0x1p-24f;
}

/* odd multiples of 2^-23 in (-1, 1), exact in float */
static float wn_uniform_signed(uint32_t r)
{
    return (float)((int32_t)(2u * (r >> 9) + 1u) - 8388608) * 0x1p-23f;
}

/* x clamped to [-1, 1], NaN to -1 */
static float wn_clamp1(float x)
{
    if (!(x >= -1.0f)) {
        return -1.0f;
    }
    return x > 1.0f ? 1.0f : x;
}

static float wn_log_scale(float log_s, float log_scale_min)
{
    return log_s >= log_scale_min ? log_s : log_scale_min; /* NaN to the minimum */
}

/* N(0, 1): Marsaglia's polar method, two draws per try */
static float wn_normal(wn_pcg32 *rng)
{
    for (;;) {
        const float u = wn_uniform_signed(wn_pcg32_next(rng));
        const float v = wn_uniform_signed(wn_pcg32_next(rng));
        const float s = u * u + v * v;
        if (s < 1.0f) {
            const float y = -2.0f * wn_logf(s) / s;
            return u * wn_expf(0.5f * wn_logf(y));
        }
    }
}

/* a mixture of k logistics y = [k weights, k means, k log scales]: the component by Gumbel-max
 * over the weights (gumbel NULL: by the cdf sampler), then mean + exp(log_s) * temperature * logistic noise, clamped to [-1, 1] */
float wn_sample_mol_f32(const float *y, int32_t k, float log_scale_min, float temperature,
                        wn_pcg32 *rng, const float *gumbel)
{
    const int32_t c = gumbel != NULL ? wn_sample_f32(y, k, temperature, rng, gumbel)
                                     : wn_sample_cdf_f32(y, k, temperature, rng);
    float x = y[k + c];
    if (temperature != 0.0f) {
        const float scale = wn_expf(wn_log_scale(y[2 * k + c], log_scale_min));
        const float u = wn_uniform_open(wn_pcg32_next(rng));
        const float logistic = wn_logf(u) - wn_logf(1.0f - u);
        x = x + scale * (temperature * logistic);
    }
    return wn_clamp1(x);
}

/* a Gaussian y = [mean, log scale]: mean + exp(log_s) * temperature * N(0, 1), clamped */
float wn_sample_gaussian_f32(const float *y, float log_scale_min, float temperature,
                             wn_pcg32 *rng)
{
    float x = y[0];
    if (temperature != 0.0f) {
        const float scale = wn_expf(wn_log_scale(y[1], log_scale_min));
        x = x + scale * (temperature * wn_normal(rng));
    }
    return wn_clamp1(x);
}

/* 16-bit PCM of a value: clamped to [-1, 1], times 32767, rounded half away from zero */
int16_t wn_pcm16(float v)
{
    const float t = wn_clamp1(v) * 32767.0f;
    return (int16_t)(t < 0.0f ? t - 0.5f : t + 0.5f);
}

/* integer head outputs as floats: scale * (q - zp) */
void wn_dequantize_s8(float *y, const int8_t *q, int32_t n, float scale, int32_t zp)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        y[i] = scale * (float)((int32_t)q[i] - zp);
    }
}

void wn_dequantize_s16(float *y, const int16_t *q, int32_t n, float scale, int32_t zp)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        y[i] = scale * (float)((int32_t)q[i] - zp);
    }
}
