/* Limits of memories and tables with the memory64, table64 and custom page
 * sizes flags: bit 0 a maximum follows, bit 1 (memories, threads) shared, bit 2 the addresses (or indices) are
 * i64 and the bounds u64, bit 3 (memories) a page size exponent follows. */
#include "internal.h"

#define FLAG_MAX  0x01u
#define FLAG_SHARED 0x02u
#define FLAG_64   0x04u
#define FLAG_PAGE 0x08u

static int read_bounds(eos_wasm__rd *r, uint8_t flags, uint8_t allowed, eos_wasm_limits_type *l)
{
    if (flags & ~allowed)
        return eos_wasm__rd_fail(r, EOS_EMALFORMED, "integer too large: limits flags 0x%02x",
                                 flags);
    l->is64 = flags & FLAG_64;
    l->has_max = flags & FLAG_MAX;
    l->min = l->max = 0;
    if (eos_wasm__rd_uleb(r, l->is64 ? 64 : 32, &l->min))
        return r->err;
    if (l->has_max && eos_wasm__rd_uleb(r, l->is64 ? 64 : 32, &l->max))
        return r->err;
    return 0;
}

int eos_wasm__read_table_limits(eos_wasm__rd *r, eos_wasm_module *m, eos_wasm_limits_type *l)
{
    uint8_t flags;
    if (eos_wasm__rd_byte(r, &flags) || read_bounds(r, flags, FLAG_MAX | FLAG_64, l))
        return r->err;
    if (l->is64)
        m->uses_mem64 = true;
    if (l->has_max && l->min > l->max)
        return eos_wasm__rd_fail(r, EOS_EINVALID, "size minimum must not be greater than maximum");
    return 0;
}

int eos_wasm__read_memtype(eos_wasm__rd *r, eos_wasm_module *m, eos_wasm_memorytype *t)
{
    uint8_t flags;
    eos_wasm_limits_type *l = &t->limits;
    if (eos_wasm__rd_byte(r, &flags) ||
        read_bounds(r, flags, FLAG_MAX | FLAG_SHARED | FLAG_64 | FLAG_PAGE, l))
        return r->err;
    /* threads: bit 1 marks a shared memory, which needs a maximum */
    t->shared = flags & FLAG_SHARED;
    if (t->shared && !l->has_max)
        return eos_wasm__rd_fail(r, EOS_EINVALID, "shared memory must have maximum");
    t->page_size = EOS_WASM_PAGE_SIZE;
    if (flags & FLAG_PAGE) {
        uint32_t log2;
        if (eos_wasm__rd_u32(r, &log2))
            return r->err;
        /* An exponent past 64 names no page size a u64 can hold at all. */
        if (log2 > 64)
            return eos_wasm__rd_fail(r, EOS_EMALFORMED, "invalid custom page size");
        if (log2 != 0 && log2 != 16)
            return eos_wasm__rd_fail(r, EOS_EINVALID, "invalid custom page size");
        t->page_size = log2 == 0 ? 1 : EOS_WASM_PAGE_SIZE;
    }
    if (l->is64 || t->page_size != EOS_WASM_PAGE_SIZE)
        m->uses_mem64 = true;
    /* At most 2^32 bytes (i32 addresses) or 2^64 bytes (i64) in pages. */
    unsigned p = eos_wasm__page_log2(t);
    uint64_t cap = l->is64 ? (p ? UINT64_C(1) << (64 - p) : UINT64_MAX) : UINT64_C(1) << (32 - p);
    if (l->min > cap || (l->has_max && l->max > cap))
        return eos_wasm__rd_fail(r, EOS_EINVALID, "memory size must be at most %s",
                                 l->is64 ? "2^64 bytes"
                                 : p     ? "65536 pages (4GiB)"
                                         : "4GiB");
    if (l->has_max && l->min > l->max)
        return eos_wasm__rd_fail(r, EOS_EINVALID, "size minimum must not be greater than maximum");
    return 0;
}
