/* wasi:clocks (wall-clock, monotonic-clock with pollables for instants and
 * durations) and wasi:random (random, insecure, insecure-seed), all from the
 * operating system: CLOCK_REALTIME, the monotonic clock and getrandom(2). */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "internal.h"

/* Most random bytes one call returns; beyond it the guest traps, as it could
 * never have memory for them under the default limits anyway. */
#define RANDOM_MAX (64u * 1024u * 1024u)

static int datetime(eos_wasi__ctx *ctx, eos_cm_val *v, clockid_t clk, bool res)
{
    struct timespec ts = {0, 0};
    int rc = res ? clock_getres(clk, &ts) : clock_gettime(clk, &ts);
    if (rc != 0)
        return EOS_ESYS;
    eos_cm_val *f = eos_wasi__val_new(ctx, 2);
    if (!f)
        return EOS_ENOMEM;
    f[0].of.u = ts.tv_sec < 0 ? 0 : (uint64_t)ts.tv_sec;
    f[1].of.u = (uint64_t)ts.tv_nsec;
    v->of.list.items = f;
    v->of.list.len = 2;
    return 0;
}

static int wall_now(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    return datetime(ctx, &results[0], CLOCK_REALTIME, false);
}

static int wall_resolution(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    return datetime(ctx, &results[0], CLOCK_REALTIME, true);
}

static int mono_now(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    results[0].of.u = eos_now_ns();
    return 0;
}

static int mono_resolution(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    struct timespec ts = {0, 1};
    clock_getres(CLOCK_MONOTONIC, &ts);
    results[0].of.u = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    return 0;
}

static int subscribe_at(eos_wasi__ctx *ctx, eos_cm_val *res, uint64_t deadline)
{
    return eos_wasi__ret_handle(res,
                                eos_wasi__pollable_new(ctx, EOS_WASI__POLL_CLOCK, deadline, 0));
}

static int mono_subscribe_instant(eos_cm_call *call, void *ud, const eos_cm_val *args,
                                  eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    return subscribe_at(ctx, &results[0], args[0].of.u);
}

static int mono_subscribe_duration(eos_cm_call *call, void *ud, const eos_cm_val *args,
                                   eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    uint64_t now = eos_now_ns();
    uint64_t d = args[0].of.u;
    return subscribe_at(ctx, &results[0], d > UINT64_MAX - now ? UINT64_MAX : now + d);
}

/* Fills buf from the kernel's CSPRNG. */
int eos_wasi__random(uint8_t *buf, size_t size)
{
    while (size) {
        ssize_t n = getrandom(buf, size, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return EOS_ESYS;
        }
        buf += n;
        size -= (size_t)n;
    }
    return 0;
}

static int random_bytes(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    uint64_t len = args[0].of.u;
    if (len > RANDOM_MAX)
        return EOS_TRAP_HOST;
    uint8_t *b = eos_wasi__scratch_alloc(ctx, (size_t)len + 1);
    if (!b)
        return EOS_ENOMEM;
    int rc = eos_wasi__random(b, (size_t)len);
    if (rc)
        return rc;
    results[0].of.list.bytes = b;
    results[0].of.list.len = (size_t)len;
    return 0;
}

static int random_u64(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    uint64_t v = 0;
    int rc = eos_wasi__random((uint8_t *)&v, sizeof(v));
    results[0].of.u = v;
    return rc;
}

static int insecure_seed(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    eos_cm_val *t = eos_wasi__val_new(ctx, 2);
    uint64_t v[2] = {0, 0};
    if (!t)
        return EOS_ENOMEM;
    int rc = eos_wasi__random((uint8_t *)v, sizeof(v));
    t[0].of.u = v[0];
    t[1].of.u = v[1];
    results[0].of.list.items = t;
    results[0].of.list.len = 2;
    return rc;
}

static const char mono_types[] = "resource pollable;\ntype instant = u64;\ntype duration = u64;\n";
static const char wall_types[] = "record datetime { seconds: u64, nanoseconds: u32 }\n";

static const eos_cm_host_func wall_funcs[] = {
    {"now", "func() -> datetime", wall_now},
    {"resolution", "func() -> datetime", wall_resolution},
};
static const eos_cm_host_func mono_funcs[] = {
    {"now", "func() -> instant", mono_now},
    {"resolution", "func() -> duration", mono_resolution},
    {"subscribe-instant", "func(when: instant) -> pollable", mono_subscribe_instant},
    {"subscribe-duration", "func(when: duration) -> pollable", mono_subscribe_duration},
};
static const eos_cm_host_func random_funcs[] = {
    {"get-random-bytes", "func(len: u64) -> list<u8>", random_bytes},
    {"get-random-u64", "func() -> u64", random_u64},
};
static const eos_cm_host_func insecure_funcs[] = {
    {"get-insecure-random-bytes", "func(len: u64) -> list<u8>", random_bytes},
    {"get-insecure-random-u64", "func() -> u64", random_u64},
};
static const eos_cm_host_func seed_funcs[] = {
    {"insecure-seed", "func() -> tuple<u64, u64>", insecure_seed},
};

const eos_wasi__iface eos_wasi__clock_ifaces[] = {
    EOS_WASI__IFACE("wasi:clocks/wall-clock", wall_types, wall_funcs),
    EOS_WASI__IFACE("wasi:clocks/monotonic-clock", mono_types, mono_funcs),
    EOS_WASI__IFACE("wasi:random/random", NULL, random_funcs),
    EOS_WASI__IFACE("wasi:random/insecure", NULL, insecure_funcs),
    EOS_WASI__IFACE("wasi:random/insecure-seed", NULL, seed_funcs),
};
const size_t eos_wasi__clock_iface_count = EOS_ARRAY_LEN(eos_wasi__clock_ifaces);
