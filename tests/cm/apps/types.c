/* Test component for the canonical ABI, written against the flattened core
 * signatures by hand: echo functions for every type, functions that return
 * invalid values on purpose, an exported resource and uses of a host one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT(n) __attribute__((export_name(n)))
#define IMPORT(m, n) __attribute__((import_module(m), import_name(n)))

void *cabi_realloc(void *p, size_t old, size_t align, size_t n)
{
    (void)old;
    (void)align;
    if (n == 0)
        return (void *)align; /* any aligned non-null pointer will do */
    return realloc(p, n);
}

static uint64_t ret[8];
#define RET ((uint8_t *)ret)

/* Scalars: the flat value passes through unchanged. */
EXPORT("echo-bool") int32_t echo_bool(int32_t x) { return x; }
EXPORT("echo-s8") int32_t echo_s8(int32_t x) { return x; }
EXPORT("echo-u8") int32_t echo_u8(int32_t x) { return x; }
EXPORT("echo-s16") int32_t echo_s16(int32_t x) { return x; }
EXPORT("echo-u16") int32_t echo_u16(int32_t x) { return x; }
EXPORT("echo-s32") int32_t echo_s32(int32_t x) { return x; }
EXPORT("echo-u32") int32_t echo_u32(int32_t x) { return x; }
EXPORT("echo-s64") int64_t echo_s64(int64_t x) { return x; }
EXPORT("echo-u64") int64_t echo_u64(int64_t x) { return x; }
EXPORT("echo-f32") float echo_f32(float x) { return x; }
EXPORT("echo-f64") double echo_f64(double x) { return x; }
EXPORT("echo-char") int32_t echo_char(int32_t x) { return x; }
EXPORT("echo-enum") int32_t echo_enum(int32_t x) { return x; }
EXPORT("echo-fl1") int32_t echo_fl1(int32_t x) { return x; }
EXPORT("echo-fl8") int32_t echo_fl8(int32_t x) { return x; }
EXPORT("echo-fl32") int32_t echo_fl32(int32_t x) { return x; }

static void *pair(uint32_t p, uint32_t n)
{
    memcpy(RET, &p, 4);
    memcpy(RET + 4, &n, 4);
    return RET;
}

/* Strings and lists: the guest owns what it received; hand it back. */
EXPORT("echo-string") void *echo_string(uint32_t p, uint32_t n) { return pair(p, n); }
EXPORT("echo-bytes") void *echo_bytes(uint32_t p, uint32_t n) { return pair(p, n); }
EXPORT("echo-list") void *echo_list(uint32_t p, uint32_t n) { return pair(p, n); }
EXPORT("echo-nested") void *echo_nested(uint32_t p, uint32_t n) { return pair(p, n); }

/* record { a: u8, b: string, c: list<u32>, d: f64 }: offsets 0, 4, 12, 24. */
EXPORT("echo-rec") void *echo_rec(uint32_t a, uint32_t bp, uint32_t bn, uint32_t cp, uint32_t cn,
                                  double d)
{
    memset(RET, 0, 32);
    RET[0] = (uint8_t)a;
    memcpy(RET + 4, &bp, 4);
    memcpy(RET + 8, &bn, 4);
    memcpy(RET + 12, &cp, 4);
    memcpy(RET + 16, &cn, 4);
    memcpy(RET + 24, &d, 8);
    return RET;
}

/* variant { none, num(u32), text(string), big(u64) }: flat (i32, i64, i32);
 * memory: discriminant u8 at 0, payload at 8. */
EXPORT("echo-var") void *echo_var(uint32_t disc, uint64_t a, uint32_t b)
{
    memset(RET, 0, 16);
    RET[0] = (uint8_t)disc;
    if (disc == 1) {
        uint32_t v = (uint32_t)a;
        memcpy(RET + 8, &v, 4);
    } else if (disc == 2) {
        uint32_t p = (uint32_t)a;
        memcpy(RET + 8, &p, 4);
        memcpy(RET + 12, &b, 4);
    } else if (disc == 3) {
        memcpy(RET + 8, &a, 8);
    }
    return RET;
}

/* option<string>: flat (i32, i32, i32); memory: u8 at 0, string at 4. */
EXPORT("echo-option") void *echo_option(uint32_t disc, uint32_t p, uint32_t n)
{
    memset(RET, 0, 12);
    RET[0] = (uint8_t)disc;
    if (disc) {
        memcpy(RET + 4, &p, 4);
        memcpy(RET + 8, &n, 4);
    }
    return RET;
}

/* result<u32, string>: same shape as option<string> with either payload. */
EXPORT("echo-result") void *echo_result(uint32_t disc, uint32_t a, uint32_t b)
{
    memset(RET, 0, 12);
    RET[0] = (uint8_t)disc;
    memcpy(RET + 4, &a, 4);
    if (disc)
        memcpy(RET + 8, &b, 4);
    return RET;
}

/* tuple<u8, string>: flat (i32, i32, i32); memory: u8 at 0, string at 4. */
EXPORT("echo-tuple") void *echo_tuple(uint32_t a, uint32_t p, uint32_t n)
{
    RET[0] = (uint8_t)a;
    memcpy(RET + 4, &p, 4);
    memcpy(RET + 8, &n, 4);
    return RET;
}

/* 17 parameters do not fit in 16 flat values: they arrive through memory. */
EXPORT("sum17") uint64_t sum17(uint32_t *args)
{
    uint64_t s = 0;
    for (int i = 0; i < 17; i++)
        s += args[i];
    free(args);
    return s;
}

static uint32_t post_returns;

EXPORT("greet") void *greet(char *p, uint32_t n)
{
    char *o = malloc(n + 7);
    memcpy(o, "hello, ", 7);
    memcpy(o + 7, p, n);
    free(p);
    return pair((uint32_t)(uintptr_t)o, n + 7);
}

EXPORT("cabi_post_greet") void greet_post(uint32_t *r)
{
    free((void *)(uintptr_t)r[0]);
    post_returns++;
}

EXPORT("frees") uint32_t frees(void) { return post_returns; }

static char bad[4] = {'a', (char)0xff, 'b', 0};

EXPORT("bad-utf8") void *bad_utf8(void) { return pair((uint32_t)(uintptr_t)bad, 3); }
EXPORT("bad-disc") void *bad_disc(void)
{
    RET[0] = 7;
    return RET;
}
EXPORT("bad-list") void *bad_list(void) { return pair(0xfffffff0u, 100); }
EXPORT("bad-char") int32_t bad_char(void) { return 0xd800; }
EXPORT("bad-enum") int32_t bad_enum(void) { return 3; }

/* The host's blob resource and functions. */
IMPORT("local:types/host", "[constructor]blob") int32_t blob_new(const uint8_t *p, uint32_t n);
IMPORT("local:types/host", "[method]blob.size") int32_t blob_size(int32_t self);
IMPORT("local:types/host", "[resource-drop]blob") void blob_drop(int32_t h);
IMPORT("local:types/host", "log") void host_log(const char *p, uint32_t n);
IMPORT("local:types/host", "callback") int32_t host_callback(void);
IMPORT("local:types/host", "take") int32_t host_take(int32_t h);
IMPORT("local:types/host", "peek") int32_t host_peek(int32_t h);

EXPORT("call-callback") uint32_t call_callback(void) { return (uint32_t)host_callback(); }

EXPORT("blob-roundtrip") uint32_t blob_roundtrip(uint32_t n)
{
    uint8_t *data = calloc(1, n + 1);
    int32_t b = blob_new(data, n);
    uint32_t s = (uint32_t)blob_size(b);
    s += (uint32_t)host_peek(b);
    s += (uint32_t)host_take(b); /* ownership moves to the host */
    int32_t c = blob_new(data, 1);
    blob_drop(c); /* runs the host destructor */
    host_log("roundtrip done", 14);
    free(data);
    return s;
}

EXPORT("drop-bad-handle") void drop_bad_handle(void) { blob_drop(12345); }

/* A borrowed handle must be dropped before the call returns. */
EXPORT("hold-borrow") uint32_t hold_borrow(int32_t h) { return (uint32_t)h; }
EXPORT("drop-borrow") uint32_t drop_borrow(int32_t h)
{
    uint32_t s = (uint32_t)blob_size(h);
    blob_drop(h);
    return s;
}

/* The exported counter resource: reps are indices into a small array. */
IMPORT("[export]local:types/counters", "[resource-new]counter") int32_t counter_new(int32_t rep);
IMPORT("[export]local:types/counters", "[resource-drop]counter") void counter_drop(int32_t h);

static uint32_t values[64];
static uint8_t used[64];
static uint32_t live;

static int32_t make(uint32_t start)
{
    for (int i = 1; i < 64; i++)
        if (!used[i]) {
            used[i] = 1;
            values[i] = start;
            live++;
            return counter_new(i);
        }
    __builtin_trap();
}

EXPORT("local:types/counters#[constructor]counter") int32_t ctor(uint32_t start) { return make(start); }
EXPORT("local:types/counters#[static]counter.make") int32_t smake(uint32_t n) { return make(n * 10); }
EXPORT("local:types/counters#[method]counter.inc") void inc(int32_t rep) { values[rep]++; }
EXPORT("local:types/counters#[method]counter.get") uint32_t get(int32_t rep) { return values[rep]; }
EXPORT("local:types/counters#live") uint32_t live_count(void) { return live; }
EXPORT("local:types/counters#read-borrow") uint32_t read_borrow(int32_t rep) { return values[rep]; }
EXPORT("local:types/counters#keep-borrow") uint32_t keep_borrow(int32_t rep) { return values[rep] + 1; }
EXPORT("local:types/counters#consume") uint32_t consume(int32_t handle)
{
    /* An owned handle arrives as a handle of our own table; dropping it runs
     * the destructor below. */
    uint32_t v = live;
    counter_drop(handle);
    return v * 1000 + live;
}
EXPORT("local:types/counters#[dtor]counter") void dtor(int32_t rep)
{
    used[rep] = 0;
    live--;
}
