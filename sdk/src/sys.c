/* Random bytes, clocks and the environment for apps over wasi:random,
 * wasi:clocks and wasi:cli/environment. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int eos_random_bytes(void *buf, size_t size)
{
    uint8_t *p = buf;
    while (size > 0) {
        /* Hosts may cap one call; ask for at most 64 KiB at a time. */
        size_t want = size < 65536 ? size : 65536;
        _Alignas(4) uint8_t ret[8];
        eos__random_bytes((int64_t)want, ret);
        eos__bytes got = eos__list(ret);
        size_t n = got.len < want ? got.len : want;
        memcpy(p, got.ptr, n);
        eos__release(got.ptr, got.len);
        if (n == 0)
            return EOS_APP_EHOST;
        p += n;
        size -= n;
    }
    return EOS_APP_OK;
}

uint64_t eos_random_u64(void)
{
    return (uint64_t)eos__random_u64();
}

uint64_t eos_wall_clock(uint32_t *out_nanos)
{
    _Alignas(8) uint8_t ret[16];
    eos__wall_now(ret);
    if (out_nanos)
        *out_nanos = eos__u32(ret + 8);
    return eos__u64(ret);
}

uint64_t eos_monotonic_ns(void)
{
    return (uint64_t)eos__monotonic_now();
}

/* The host's environment, copied once: "NAME=value" strings. */
static char **env;
static size_t env_count;
static int env_loaded;

static void load_env(void)
{
    _Alignas(4) uint8_t ret[8];
    env_loaded = 1;
    eos__get_environment(ret);
    eos__bytes list = eos__list(ret);
    env = list.len ? calloc(list.len, sizeof(char *)) : NULL;
    for (size_t i = 0; i < list.len; i++) {
        eos__bytes k = eos__list(list.ptr + 16 * i), v = eos__list(list.ptr + 16 * i + 8);
        char *s = env ? malloc(k.len + v.len + 2) : NULL;
        if (s) {
            memcpy(s, k.ptr, k.len);
            s[k.len] = '=';
            memcpy(s + k.len + 1, v.ptr, v.len);
            s[k.len + 1 + v.len] = '\0';
            env[env_count++] = s;
        }
        eos__release(k.ptr, k.len);
        eos__release(v.ptr, v.len);
    }
    eos__release(list.ptr, list.len);
}

const char *eos_env(const char *name)
{
    if (!env_loaded)
        load_env();
    size_t n = strlen(name);
    for (size_t i = 0; i < env_count; i++) {
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
            return env[i] + n + 1;
    }
    return NULL;
}
