/* base64url without padding, as JOSE uses it, and the JSON helpers shared
 * by the key set, token and policy parsers. */
#include <string.h>

#include "internal.h"

static int value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int eos_auth__b64url_decode(const char *in, size_t len, uint8_t **out, size_t *out_size)
{
    if (len % 4 == 1)
        return EOS_EMALFORMED;
    size_t size = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    uint8_t *buf = eos_malloc(size + 1);
    if (!buf)
        return EOS_ENOMEM;
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int v = value(in[i]);
        if (v < 0) {
            eos_free(buf, size + 1);
            return EOS_EMALFORMED;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[n++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits must be zero: one encoding per byte string. */
    if (bits && (acc & ((1u << bits) - 1)) != 0) {
        eos_free(buf, size + 1);
        return EOS_EMALFORMED;
    }
    buf[n] = 0;
    *out = buf;
    *out_size = n;
    return 0;
}

char *eos_auth__b64url_encode(const uint8_t *in, size_t size)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    /* Exactly the encoded length plus the NUL, as the caller frees it. */
    char *out = eos_malloc(size / 3 * 4 + (size % 3 ? size % 3 + 1 : 0) + 1);
    size_t n = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < size; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < size)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < size)
            v |= in[i + 2];
        out[n++] = tab[v >> 18 & 63];
        out[n++] = tab[v >> 12 & 63];
        if (i + 1 < size)
            out[n++] = tab[v >> 6 & 63];
        if (i + 2 < size)
            out[n++] = tab[v & 63];
    }
    out[n] = 0;
    return out;
}

yajl_val eos_auth__json_parse(const char *text, size_t size, int *oom)
{
    char err[128];
    *oom = 0;
    if (memchr(text, 0, size))
        return NULL;
    char *copy = eos_malloc(size + 1);
    if (!copy) {
        *oom = 1;
        return NULL;
    }
    memcpy(copy, text, size);
    copy[size] = 0;
    yajl_val v = yajl_tree_parse(copy, err, sizeof err);
    eos_free(copy, size + 1);
    return v;
}

yajl_val eos_auth__member(yajl_val obj, const char *key)
{
    if (!obj || !YAJL_IS_OBJECT(obj))
        return NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], key) == 0)
            return obj->u.object.values[i];
    return NULL;
}
