/* Randomness, clocks and environment for enclave-os apps (wasi:random, wasi:clocks,
 * wasi:cli/environment). The server sets APP_NAME, APP_VERSION (the code hash) and
 * the variables given at load time. */
#ifndef EOS_SYS_H
#define EOS_SYS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fills buf with size cryptographically secure random bytes. */
int eos_random_bytes(void *buf, size_t size);
/* A cryptographically secure random 64-bit number. */
uint64_t eos_random_u64(void);
/* Wall-clock time since the Unix epoch (seconds and nanoseconds; out_nanos may be NULL). */
uint64_t eos_wall_clock(uint32_t *out_nanos);
/* Monotonic time in nanoseconds from an arbitrary start. */
uint64_t eos_monotonic_ns(void);
/* The value of environment variable `name`, or NULL. Borrowed from the SDK's copy
 * of the environment (read once, kept for the life of the instance). */
const char *eos_env(const char *name);

#ifdef __cplusplus
}
#endif

#endif
