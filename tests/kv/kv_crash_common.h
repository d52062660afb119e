/* What the crash writer writes, shared with the test that checks it. */
#ifndef EOS_TEST_KV_CRASH_COMMON_H
#define EOS_TEST_KV_CRASH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define KV_CRASH_TEE_KEY   0x33
#define KV_CRASH_MAX_VALUE 3000

/* The value of record n: its size varies so records move between LMDB
 * leaf and overflow pages. Returns the size written into out. */
static inline size_t kv_crash_value(long n, uint8_t *out)
{
    size_t size = (size_t)(n * 37 % KV_CRASH_MAX_VALUE) + 1;
    for (size_t i = 0; i < size; i++)
        out[i] = (uint8_t)(n * 31 + (long)i * 7);
    return size;
}

#endif
