/* Random tensors: uniform, normal, integers and permutations, reproducible
 * after nd_manual_seed. See random.h for the generator. */
#include "random.h"
#include "internal.h"

#include <math.h>

/* ------------------------------------------------------------ generator */

static uint64_t rotate_left(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

/* splitmix64 spreads one 64-bit seed over xoshiro's 256 bits of state, so that
 * nearby seeds (0, 1, 2...) still give unrelated streams and the state is
 * never all zeros. */
static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void nd__rng_seed(nd__rng *rng, uint64_t seed) {
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&seed);
    rng->has_spare = false;
    rng->spare_normal = 0;
}

/* The generator's step. Static and inline so that the fill loops below keep
 * the state in registers (an exported function is not inlined in a shared
 * library, and a call per element costs more than the step itself). */
static inline uint64_t next_u64(uint64_t *restrict s) {
    uint64_t result = rotate_left(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotate_left(s[3], 45);
    return result;
}

uint64_t nd__rng_u64(nd__rng *rng) {
    return next_u64(rng->s);
}

/* The top 53 bits scaled by 2^-53: every value is a multiple of 2^-53 in [0, 1). */
static inline double uniform_from(uint64_t *restrict s) {
    return (double)(next_u64(s) >> 11) * 0x1.0p-53;
}

double nd__rng_uniform(nd__rng *rng) {
    return uniform_from(rng->s);
}

uint64_t nd__rng_below(nd__rng *rng, uint64_t n) {
    if (n == 0) return 0;
    /* Reject the few smallest values that would make `r % n` favour small results:
     * 2^64 mod n of them, which is what (-n) % n computes in unsigned arithmetic. */
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t r = next_u64(rng->s);
        if (r >= threshold) return r % n;
    }
}

/* Marsaglia's polar method: a point drawn uniformly in the unit disc (about
 * 21% of draws from the square fall outside and are redrawn) gives two
 * independent normals with one logarithm and no sine or cosine. */
static inline void normal_pair(uint64_t *restrict s, double *z0, double *z1) {
    double x, y, r2;
    do {
        x = 2.0 * uniform_from(s) - 1.0;
        y = 2.0 * uniform_from(s) - 1.0;
        r2 = x * x + y * y;
    } while (r2 >= 1.0 || r2 == 0.0);
    double scale = sqrt(-2.0 * log(r2) / r2);
    *z0 = x * scale;
    *z1 = y * scale;
}

double nd__rng_normal(nd__rng *rng) {
    if (rng->has_spare) {
        rng->has_spare = false;
        return rng->spare_normal;
    }
    double z0, z1;
    normal_pair(rng->s, &z0, &z1);
    rng->spare_normal = z1;
    rng->has_spare = true;
    return z0;
}

static _Thread_local nd__rng thread_rng;
static _Thread_local bool thread_rng_seeded;

nd__rng *nd__thread_rng(void) {
    if (!thread_rng_seeded) {
        nd__rng_seed(&thread_rng, ND_DEFAULT_SEED);
        thread_rng_seeded = true;
    }
    return &thread_rng;
}

uint64_t nd__rand_u64(void) {
    return nd__rng_u64(nd__thread_rng());
}
double nd__rand_uniform(void) {
    return nd__rng_uniform(nd__thread_rng());
}
double nd__rand_normal(void) {
    return nd__rng_normal(nd__thread_rng());
}

void nd_manual_seed(uint64_t seed) {
    nd__rng_seed(&thread_rng, seed);
    thread_rng_seeded = true;
}

/* -------------------------------------------------------------- tensors */

static nd_tensor *float_tensor(const char *op, nd_dtype dtype, int ndim, const int64_t *shape) {
    if (!nd__is_float(dtype))
        return nd__fail_as(ND_ERR_DTYPE,
                           "%s: dtype %s is not a floating-point type (use ND_F32 or ND_F64)", op,
                           nd_dtype_name(dtype));
    if (!nd__check_shape(op, ndim, shape)) return NULL;
    return nd__empty(dtype, ndim, shape);
}

nd_tensor *nd_rand(nd_dtype dtype, int ndim, const int64_t *shape) {
    nd_tensor *t = float_tensor("nd_rand", dtype, ndim, shape);
    if (!t) return NULL;
    /* The state lives in locals during the fill (registers), then goes back. */
    nd__rng *rng = nd__thread_rng();
    uint64_t s[4] = {rng->s[0], rng->s[1], rng->s[2], rng->s[3]};
    int64_t n = t->numel;
    if (dtype == ND_F32) {
        /* 24 random bits: exactly the float32 values k·2^-24, never rounding up to 1. */
        float *p = nd__ptr(t);
        for (int64_t i = 0; i < n; i++) p[i] = (float)(next_u64(s) >> 40) * 0x1.0p-24f;
    } else {
        double *p = nd__ptr(t);
        for (int64_t i = 0; i < n; i++) p[i] = (double)(next_u64(s) >> 11) * 0x1.0p-53;
    }
    memcpy(rng->s, s, sizeof s);
    return t;
}

/* Normals in pairs, the state in locals during the fill (an odd
 * count drops the last pair's second half). */
#define FILL_NORMAL(T)                                                                             \
    do {                                                                                           \
        T *p = nd__ptr(t);                                                                         \
        for (int64_t i = 0; i < n; i += 2) {                                                       \
            double z0, z1;                                                                         \
            normal_pair(s, &z0, &z1);                                                              \
            p[i] = (T)z0;                                                                          \
            if (i + 1 < n) p[i + 1] = (T)z1;                                                       \
        }                                                                                          \
    } while (0)

nd_tensor *nd_randn(nd_dtype dtype, int ndim, const int64_t *shape) {
    nd_tensor *t = float_tensor("nd_randn", dtype, ndim, shape);
    if (!t) return NULL;
    nd__rng *rng = nd__thread_rng();
    uint64_t s[4] = {rng->s[0], rng->s[1], rng->s[2], rng->s[3]};
    int64_t n = t->numel;
    if (dtype == ND_F32)
        FILL_NORMAL(float);
    else
        FILL_NORMAL(double);
    memcpy(rng->s, s, sizeof s);
    return t;
}

nd_tensor *nd_randint(int64_t low, int64_t high, int ndim, const int64_t *shape) {
    if (high <= low)
        return nd__fail("nd_randint: empty range [%lld, %lld): high must be greater than low",
                        (long long)low, (long long)high);
    if (!nd__check_shape("nd_randint", ndim, shape)) return NULL;
    nd_tensor *t = nd__empty(ND_I64, ndim, shape);
    if (!t) return NULL;
    /* high - low can exceed INT64_MAX (e.g. [-2^62, 2^62]): count in unsigned. */
    uint64_t range = (uint64_t)high - (uint64_t)low;
    nd__rng *rng = nd__thread_rng();
    int64_t *p = nd__ptr(t);
    for (int64_t i = 0; i < t->numel; i++)
        p[i] = (int64_t)((uint64_t)low + nd__rng_below(rng, range));
    return t;
}

nd_tensor *nd_randperm(int64_t n) {
    if (n < 0) return nd__fail("nd_randperm: n must be non-negative, got %lld", (long long)n);
    nd_tensor *t = nd__empty(ND_I64, 1, &n);
    if (!t) return NULL;
    int64_t *p = nd__ptr(t);
    for (int64_t i = 0; i < n; i++) p[i] = i;
    /* Fisher–Yates: position i takes a uniformly chosen element of p[0..i]. */
    nd__rng *rng = nd__thread_rng();
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)nd__rng_below(rng, (uint64_t)i + 1);
        int64_t tmp = p[i];
        p[i] = p[j];
        p[j] = tmp;
    }
    return t;
}
