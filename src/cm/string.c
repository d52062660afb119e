/* Strings across the canonical ABI: UTF-8 validation and transcoding between
 * the host's UTF-8 and a guest's utf8, utf16 or latin1+utf16 encoding, with
 * the bounds and alignment checks the specification requires. */
#include <string.h>

#include "internal.h"

#define EOS_CM__MAX_STRING_BYTES 0x7fffffffu
#define EOS_CM__UTF16_TAG        0x80000000u

/* Decodes one UTF-8 scalar at s[*i]; returns -1 when invalid. */
static int32_t utf8_next(const uint8_t *s, size_t len, size_t *i)
{
    uint8_t b = s[*i];
    uint32_t cp, need, min;
    if (b < 0x80) {
        (*i)++;
        return b;
    } else if ((b & 0xe0) == 0xc0) {
        cp = b & 0x1f, need = 1, min = 0x80;
    } else if ((b & 0xf0) == 0xe0) {
        cp = b & 0x0f, need = 2, min = 0x800;
    } else if ((b & 0xf8) == 0xf0) {
        cp = b & 0x07, need = 3, min = 0x10000;
    } else {
        return -1;
    }
    if (len - *i <= need)
        return -1;
    for (uint32_t k = 1; k <= need; k++) {
        uint8_t c = s[*i + k];
        if ((c & 0xc0) != 0x80)
            return -1;
        cp = cp << 6 | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *i += need + 1;
    return (int32_t)cp;
}

bool eos_cm__utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        /* ASCII fast path, eight bytes at a time. */
        if (len - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        if (utf8_next(s, len, &i) < 0)
            return false;
    }
    return true;
}

static size_t utf8_put(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    } else if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static int lift_utf16(eos_cm__cx *cx, uint32_t ptr, uint32_t units, eos_cm_val *out)
{
    if (ptr & 1)
        return eos_cm__trap(cx, "utf16 string pointer %u is not 2-byte aligned", ptr);
    const uint8_t *p = eos_cm__mem(cx, ptr, (uint64_t)units * 2);
    if (!p)
        return eos_cm__trap(cx, "string [%u, +%llu) is outside linear memory", ptr,
                            (unsigned long long)units * 2);
    char *o = eos_cm_arena_alloc(cx->arena, (size_t)units * 3 + 1);
    if (!o)
        return EOS_ENOMEM;
    size_t n = 0;
    for (uint32_t i = 0; i < units; i++) {
        uint32_t u = p[2 * i] | (uint32_t)p[2 * i + 1] << 8;
        if (u >= 0xd800 && u <= 0xdbff && i + 1 < units) {
            uint32_t l = p[2 * i + 2] | (uint32_t)p[2 * i + 3] << 8;
            if (l >= 0xdc00 && l <= 0xdfff) {
                n += utf8_put(o + n, 0x10000 + ((u - 0xd800) << 10) + (l - 0xdc00));
                i++;
                continue;
            }
        }
        if (u >= 0xd800 && u <= 0xdfff)
            return eos_cm__trap(cx, "invalid UTF-16: unpaired surrogate 0x%04x at unit %u", u, i);
        n += utf8_put(o + n, u);
    }
    out->of.str.ptr = o;
    out->of.str.len = n;
    return 0;
}

int eos_cm__lift_string(eos_cm__cx *cx, uint32_t ptr, uint32_t tagged_len, eos_cm_val *out)
{
    switch (cx->encoding) {
    case EOS_CM__UTF16:
        if (tagged_len > EOS_CM__MAX_STRING_BYTES / 2)
            return eos_cm__trap(cx, "utf16 string length %u is too large", tagged_len);
        return lift_utf16(cx, ptr, tagged_len, out);
    case EOS_CM__LATIN1_UTF16:
        if (tagged_len & EOS_CM__UTF16_TAG) {
            uint32_t units = tagged_len & ~EOS_CM__UTF16_TAG;
            if (units > EOS_CM__MAX_STRING_BYTES / 2)
                return eos_cm__trap(cx, "utf16 string length %u is too large", units);
            return lift_utf16(cx, ptr, units, out);
        } else {
            /* latin1+utf16 strings are 2-aligned whichever form they take. */
            if (ptr & 1)
                return eos_cm__trap(cx, "latin1+utf16 string pointer %u is not 2-byte aligned",
                                    ptr);
            if (tagged_len > EOS_CM__MAX_STRING_BYTES)
                return eos_cm__trap(cx, "string length %u is too large", tagged_len);
            const uint8_t *p = eos_cm__mem(cx, ptr, tagged_len);
            if (!p)
                return eos_cm__trap(cx, "string [%u, +%u) is outside linear memory", ptr,
                                    tagged_len);
            char *o = eos_cm_arena_alloc(cx->arena, (size_t)tagged_len * 2 + 1);
            if (!o)
                return EOS_ENOMEM;
            size_t n = 0;
            for (uint32_t i = 0; i < tagged_len; i++)
                n += utf8_put(o + n, p[i]);
            out->of.str.ptr = o;
            out->of.str.len = n;
            return 0;
        }
    default: {
        if (tagged_len > EOS_CM__MAX_STRING_BYTES)
            return eos_cm__trap(cx, "string length %u is too large", tagged_len);
        const uint8_t *p = eos_cm__mem(cx, ptr, tagged_len);
        if (!p)
            return eos_cm__trap(cx, "string [%u, +%u) is outside linear memory", ptr, tagged_len);
        if (!eos_cm__utf8_valid(p, tagged_len))
            return eos_cm__trap(cx, "invalid UTF-8 in string at %u (length %u)", ptr, tagged_len);
        if (cx->copy) {
            char *o = eos_cm__arena_strndup(cx->arena, (const char *)p, tagged_len);
            if (!o)
                return EOS_ENOMEM;
            p = (const uint8_t *)o;
        }
        out->of.str.ptr = (const char *)p;
        out->of.str.len = tagged_len;
        return 0;
    }
    }
}

/* Where a host string lives inside the guest's own memory (a lifted argument
 * passed back), remember its offset: realloc may move the memory. */
typedef struct src {
    const uint8_t *p;
    bool in_guest;
    uint64_t off;
} src;

static src src_of(eos_cm__cx *cx, const char *s, size_t len)
{
    src r = {.p = (const uint8_t *)s};
    uint8_t *base = eos_cm__mem(cx, 0, 0);
    uint64_t size = cx->mock_mem ? cx->mock_size
                    : cx->memory ? eos_wasm_memory_size(cx->memory)
                                 : 0;
    if (base && (const uint8_t *)s >= base && (const uint8_t *)s + len <= base + size) {
        r.in_guest = true;
        r.off = (uint64_t)((const uint8_t *)s - base);
    }
    return r;
}

static const uint8_t *src_ptr(eos_cm__cx *cx, src *s, size_t len)
{
    return s->in_guest ? eos_cm__mem(cx, s->off, len) : s->p;
}

int eos_cm__lower_string(eos_cm__cx *cx, const char *s, size_t len, uint32_t *out_ptr,
                         uint32_t *out_len)
{
    if (len && !s)
        return eos_cm__trap(cx, "string value without data");
    if (len > EOS_CM__MAX_STRING_BYTES)
        return eos_cm__trap(cx, "string of %zu bytes is too large for the guest", len);
    const uint8_t *u = (const uint8_t *)s;
    src sp = src_of(cx, s, len);
    uint32_t ptr;
    int rc;
    if (cx->encoding == EOS_CM__UTF8) {
        if ((rc = eos_cm__realloc(cx, 0, 0, 1, (uint32_t)len, &ptr)))
            return rc;
        uint8_t *d = eos_cm__mem(cx, ptr, len);
        u = src_ptr(cx, &sp, len);
        if (len)
            memcpy(d, u, len);
        *out_ptr = ptr;
        *out_len = (uint32_t)len;
        return 0;
    }
    /* Count UTF-16 units and whether latin1 suffices. */
    size_t units = 0, i = 0;
    bool latin1 = cx->encoding == EOS_CM__LATIN1_UTF16;
    while (i < len) {
        int32_t cp = utf8_next(u, len, &i);
        if (cp < 0)
            return eos_cm__trap(cx, "host string is not valid UTF-8");
        units += cp >= 0x10000 ? 2 : 1;
        if (cp > 0xff)
            latin1 = false;
    }
    if (units > EOS_CM__MAX_STRING_BYTES / 2)
        return eos_cm__trap(cx, "string too large for utf16");
    if (latin1) {
        if ((rc = eos_cm__realloc(cx, 0, 0, 2, (uint32_t)units, &ptr)))
            return rc;
        uint8_t *d = eos_cm__mem(cx, ptr, units);
        u = src_ptr(cx, &sp, len);
        size_t k = 0;
        for (i = 0; i < len;)
            d[k++] = (uint8_t)utf8_next(u, len, &i);
        *out_ptr = ptr;
        *out_len = (uint32_t)units;
        return 0;
    }
    if ((rc = eos_cm__realloc(cx, 0, 0, 2, (uint32_t)units * 2, &ptr)))
        return rc;
    uint8_t *d = eos_cm__mem(cx, ptr, units * 2);
    u = src_ptr(cx, &sp, len);
    size_t k = 0;
    for (i = 0; i < len;) {
        uint32_t cp = (uint32_t)utf8_next(u, len, &i);
        if (cp >= 0x10000) {
            uint32_t v = cp - 0x10000, hi = 0xd800 + (v >> 10), lo = 0xdc00 + (v & 0x3ff);
            d[k++] = (uint8_t)hi, d[k++] = (uint8_t)(hi >> 8);
            d[k++] = (uint8_t)lo, d[k++] = (uint8_t)(lo >> 8);
        } else {
            d[k++] = (uint8_t)cp, d[k++] = (uint8_t)(cp >> 8);
        }
    }
    *out_ptr = ptr;
    *out_len = (uint32_t)units | (cx->encoding == EOS_CM__LATIN1_UTF16 ? EOS_CM__UTF16_TAG : 0);
    return 0;
}
