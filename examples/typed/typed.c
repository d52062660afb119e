/* Typed exports for wasm_call, written directly against the canonical ABI (this app
 * uses no other SDK API): each export's comment gives the core signature the
 * component model lowers its WIT type to. Arguments the host copied into this
 * instance's memory (strings, lists) belong to the callee, which frees them; results
 * that point into memory are freed by the matching cabi_post_ function after the
 * host has read them. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <eos_app.h>

#define EXPORT(name) __attribute__((export_name(name)))

/* The return area of the export in progress; results of at most 16 bytes. */
static _Alignas(8) uint8_t ret_area[16];

static void release(void *ptr, size_t len)
{
    if (len)
        free(ptr);
}

/* hello: func(name: string) -> string  ==  (i32 ptr, i32 len) -> i32 area */
EXPORT("hello") uint8_t *typed_hello(char *name, size_t len)
{
    size_t size = len + 9;
    char *s = malloc(size);
    if (!s)
        __builtin_trap();
    memcpy(s, "Hello, ", 7);
    memcpy(s + 7, name, len);
    memcpy(s + 7 + len, "!", 1);
    release(name, len);
    uint32_t *r = (uint32_t *)ret_area;
    r[0] = (uint32_t)(uintptr_t)s;
    r[1] = (uint32_t)(len + 8);
    return ret_area;
}

EXPORT("cabi_post_hello") void typed_post_hello(uint8_t *area)
{
    free((void *)(uintptr_t)((uint32_t *)area)[0]);
}

/* add: func(a: s32, b: s32) -> s32  ==  (i32, i32) -> i32 (wrapping) */
EXPORT("add") int32_t typed_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

/* translate: func(p: point, dx: s32, dy: s32) -> point  ==  (i32 x, i32 y, i32, i32) ->
 * i32 area holding {x @0, y @4} */
EXPORT("translate") uint8_t *typed_translate(int32_t x, int32_t y, int32_t dx, int32_t dy)
{
    int32_t *r = (int32_t *)ret_area;
    r[0] = (int32_t)((uint32_t)x + (uint32_t)dx);
    r[1] = (int32_t)((uint32_t)y + (uint32_t)dy);
    return ret_area;
}

/* area: func(s: shape) -> u64  ==  (i32 case, i32, i32) -> i64: the payloads
 * (u32 | tuple<u32, u32> | none) share the two i32 slots. */
EXPORT("area") uint64_t typed_area(int32_t tag, uint32_t a, uint32_t b)
{
    switch (tag) {
    case 0:
        return (uint64_t)a * a;
    case 1:
        return (uint64_t)a * b;
    default:
        return 0;
    }
}

/* find: func(items: list<string>, needle: string) -> option<u32>  ==  (i32, i32, i32,
 * i32) -> i32 area holding {tag u8 @0, u32 @4} */
EXPORT("find") uint8_t *typed_find(uint32_t *items, size_t count, char *needle, size_t len)
{
    uint32_t *r = (uint32_t *)ret_area;
    r[0] = 0;
    for (size_t i = 0; i < count; i++) {
        char *s = (char *)(uintptr_t)items[2 * i];
        size_t n = items[2 * i + 1];
        if (r[0] == 0 && n == len && memcmp(s, needle, len) == 0) {
            r[0] = 1;
            r[1] = (uint32_t)i;
        }
        release(s, n);
    }
    release(items, count);
    release(needle, len);
    return ret_area;
}

/* safe-div: func(a: s32, b: s32) -> result<s32, string>  ==  (i32, i32) -> i32 area
 * holding {tag u8 @0, s32 or string (ptr, len) @4} */
EXPORT("safe-div") uint8_t *typed_safe_div(int32_t a, int32_t b)
{
    uint32_t *r = (uint32_t *)ret_area;
    const char *msg = b == 0 ? "division by zero" : a == INT32_MIN && b == -1 ? "overflow" : NULL;
    if (msg) {
        size_t len = strlen(msg);
        char *s = malloc(len);
        if (!s)
            __builtin_trap();
        memcpy(s, msg, len);
        ret_area[0] = 1;
        r[1] = (uint32_t)(uintptr_t)s;
        r[2] = (uint32_t)len;
        return ret_area;
    }
    ret_area[0] = 0;
    r[1] = (uint32_t)(a / b);
    return ret_area;
}

EXPORT("cabi_post_safe-div") void typed_post_safe_div(uint8_t *area)
{
    if (area[0] == 1)
        release((void *)(uintptr_t)((uint32_t *)area)[1], ((uint32_t *)area)[2]);
}

/* sum: func(values: list<s64>) -> s64  ==  (i32, i32) -> i64 (wrapping) */
EXPORT("sum") int64_t typed_sum(int64_t *values, size_t count)
{
    uint64_t total = 0;
    for (size_t i = 0; i < count; i++)
        total += (uint64_t)values[i];
    release(values, count);
    return (int64_t)total;
}

/* stats: func(values: list<f64>) -> tuple<u32, f64>  ==  (i32, i32) -> i32 area holding
 * {u32 @0, f64 @8} */
EXPORT("stats") uint8_t *typed_stats(double *values, size_t count)
{
    double total = 0;
    for (size_t i = 0; i < count; i++)
        total += values[i];
    release(values, count);
    *(uint32_t *)ret_area = (uint32_t)count;
    *(double *)(ret_area + 8) = count ? total / (double)count : NAN;
    return ret_area;
}

/* invert: func(p: perms) -> perms  ==  (i32 bits) -> i32 bits (read = bit 0) */
EXPORT("invert") uint32_t typed_invert(uint32_t bits)
{
    return ~bits & 7u;
}

/* next-color: func(c: color) -> color  ==  (i32 case) -> i32 case */
EXPORT("next-color") uint32_t typed_next_color(uint32_t c)
{
    return (c + 1) % 3;
}
