/*
 * random.h — nd's random number generator, for the parts of nd that need
 * random numbers of their own (initialisers, shuffling minibatches).
 *
 * The generator is xoshiro256** (Blackman and Vigna), seeded through
 * splitmix64: fast, 256 bits of state, and statistically sound for everything
 * a course does. Each thread has one generator (nd_manual_seed seeds the
 * calling thread's); code that needs an independent, separately seeded stream
 * (nd_batches with its own seed) keeps an nd__rng of its own.
 */
#ifndef ND_RANDOM_H
#define ND_RANDOM_H

#include <stdbool.h>
#include <stdint.h>

/* The seed a thread's generator starts from before any nd_manual_seed. */
#define ND_DEFAULT_SEED 0

typedef struct nd__rng {
    uint64_t s[4];
    /* Normals come in pairs (polar method): the second waits here. */
    double spare_normal;
    bool has_spare;
} nd__rng;

void nd__rng_seed(nd__rng *rng, uint64_t seed);
uint64_t nd__rng_u64(nd__rng *rng);
/* Uniform in [0, 1) with 53 random bits. */
double nd__rng_uniform(nd__rng *rng);
/* Uniform integer in [0, n), without modulo bias; 0 when n is 0. */
uint64_t nd__rng_below(nd__rng *rng, uint64_t n);
/* Standard normal N(0, 1). */
double nd__rng_normal(nd__rng *rng);

/* The calling thread's generator (the one nd_manual_seed seeds). */
nd__rng *nd__thread_rng(void);
uint64_t nd__rand_u64(void);
double nd__rand_uniform(void);
double nd__rand_normal(void);

#endif
