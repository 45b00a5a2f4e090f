/* The machine's limit for the engine's weekly step, as a proxy: one fused, SIMD-vectorized loop
 * over futures doing per future-week the engine's operation count, as measured on its NumPy
 * form on 2026-12-07 (332 element operations, 12 transcendentals, 7 64-bit hashes for its
 * random numbers), on a state of 40 floats per future kept in arrays (structure of arrays, as
 * the engine keeps its state). It computes nothing meaningful: it is what a perfect compiler
 * would leave of the engine's arithmetic, the ceiling against which offramp's speed is read.
 *
 * -DPARAMETERS=P also reads P more floats per future every week (summed into one state entry:
 * P more additions): the engine's per-future parameters, which it reads each week (kursk-2024:
 * ~976 bytes a future of inputs and per-run constants besides its 248 bytes of state), so the
 * proxy moves the engine's bytes as well as doing its arithmetic.
 *
 *   gcc -O3 -march=native -ffast-math -fopenmp-simd -shared -fPIC limit_proxy.c -o ... -lm
 * (benchmarks/limit_proxy.py builds and times it.)
 */
#include <math.h>
#include <stdint.h>

#define STATE 40
#ifndef PARAMETERS
#define PARAMETERS 0
#endif
#define HASHES 7
#define TRANSCENDENTALS 12
#define ROUNDS 2 /* 2 rounds x 40 state entries x 4 operations = 320 element operations */

static inline uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void weekly_steps(float *restrict state, const float *restrict parameters, long n, int weeks,
                  uint64_t seed) {
    for (int week = 0; week < weeks; week++) {
        uint64_t base = mix(seed ^ (uint64_t)week * 0x9E3779B97F4A7C15ULL);
#pragma omp simd
        for (long i = 0; i < n; i++) {
            float x[STATE];
#pragma GCC unroll 64
            for (int s = 0; s < STATE; s++) x[s] = state[s * n + i];
            float read = 0.0f;
#pragma GCC unroll 256 /* fully unrolled, or gcc does not vectorize the loop over futures */
            for (int p = 0; p < PARAMETERS; p++) read += parameters[p * n + i];
            x[STATE - 1] += read * 1e-9f;
            float u[2 * HASHES];
#pragma GCC unroll 64
            for (int h = 0; h < HASHES; h++) {
                uint64_t z = mix(((uint64_t)i * 0xD1B54A32D192ED03ULL) ^ (base + h));
                u[2 * h] = (float)((z & 0xFFFFFFFFULL) >> 8) * 0x1p-24f;
                u[2 * h + 1] = (float)(z >> 40) * 0x1p-24f;
            }
            float t[TRANSCENDENTALS];
#pragma GCC unroll 64
            for (int k = 0; k < TRANSCENDENTALS; k++) /* + 12 operations feeding them */
                t[k] = (k & 1) ? logf(1.0f + x[k]) : expf(-x[k]);
#pragma GCC unroll 64
            for (int r = 0; r < ROUNDS; r++)
#pragma GCC unroll 64
                for (int s = 0; s < STATE; s++)
                    x[s] = fminf(x[s] * 0.999f + t[(s + r) % TRANSCENDENTALS], 1e6f)
                           + u[(s + r) % (2 * HASHES)];
#pragma GCC unroll 64
            for (int s = 0; s < STATE; s++) state[s * n + i] = x[s];
        }
    }
}
