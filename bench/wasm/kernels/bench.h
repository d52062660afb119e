/* Shared by every compute kernel: the exported entry point, a deterministic
 * PRNG and checksum mixing. Kernels build both as freestanding wasm modules
 * (no imports, no libc) and as native code linked with native_main.c. */
#ifndef EOS_BENCH_KERNEL_H
#define EOS_BENCH_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#if defined(__wasm__)
#define BENCH_EXPORT(name) __attribute__((export_name(name)))
#else
#define BENCH_EXPORT(name) __attribute__((visibility("default")))
#endif

/* The benchmark's work: `scale` units, each about a millisecond of native
 * time. The result is a checksum that must be equal on every engine. */
static uint64_t bench_kernel(uint32_t scale);

/* run(scale) -> checksum, kept non-negative so every tool prints it alike. */
BENCH_EXPORT("run") int64_t run(int32_t scale);
int64_t run(int32_t scale)
{
    return (int64_t)(bench_kernel((uint32_t)scale) & INT64_MAX);
}

/* wasm-interp can only call exports without parameters, so a build with
 * BENCH_FIXED_SCALE also exports bench() == run(BENCH_FIXED_SCALE). */
#ifdef BENCH_FIXED_SCALE
BENCH_EXPORT("bench") int64_t bench(void);
int64_t bench(void)
{
    return run(BENCH_FIXED_SCALE);
}
#endif

/* xorshift64*: cheap, deterministic and identical on every target. */
static inline uint64_t bench_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static inline uint64_t bench_mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
    return h;
}

#endif
