/* PCG32 (XSH-RR), Gumbel-max sampling, the mixture-of-logistics and Gaussian heads and 16-bit
 * PCM; the stream and the arithmetic are wncc's specification (wncc/arith/heads.py). */
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
 * over the weights, then mean + exp(log_s) * temperature * logistic noise, clamped to [-1, 1] */
float wn_sample_mol_f32(const float *y, int32_t k, float log_scale_min, float temperature,
                        wn_pcg32 *rng, const float *gumbel)
{
    const int32_t c = wn_sample_f32(y, k, temperature, rng, gumbel);
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
