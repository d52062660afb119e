/* Lookups in the embedded console: by request path, with the listing and
 * hash computed at build time, and a self-check that recomputes them so a
 * test can tell that the build-time hash is the hash of the bytes served. */
#include <string.h>

#include <openssl/evp.h>

#include "internal.h"

static const char csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
                          "img-src 'self'; connect-src 'self'; base-uri 'none'; "
                          "form-action 'none'; frame-ancestors 'none'; "
                          "require-trusted-types-for 'script'";

size_t eos_console_asset_count(void)
{
    return eos_console__asset_count;
}

const eos_console_asset *eos_console_asset_at(size_t i)
{
    return i < eos_console__asset_count ? &eos_console__assets[i] : NULL;
}

const char *eos_console_listing(size_t *out_size)
{
    if (out_size)
        *out_size = strlen(eos_console__listing);
    return eos_console__listing;
}

const char *eos_console_hash_hex(void)
{
    return eos_console__hash_hex;
}

void eos_console_hash(uint8_t out[32])
{
    eos_hex_decode(eos_console__hash_hex, out, 32);
}

const eos_console_asset *eos_console_find(const char *path, size_t len)
{
    if (len && path[0] == '/') {
        path++;
        len--;
    }
    if (len == 0) {
        path = "index.html";
        len = strlen(path);
    }
    /* The listing is served like a file so the page can fetch and check it. */
    if (len == 13 && memcmp(path, "assets.sha256", 13) == 0)
        return &eos_console__listing_asset;
    /* The table is sorted bytewise: a binary search by (bytes, length). */
    size_t lo = 0, hi = eos_console__asset_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *p = eos_console__assets[mid].path;
        size_t n = strlen(p);
        int c = memcmp(p, path, n < len ? n : len);
        if (c == 0)
            c = n < len ? -1 : n > len ? 1 : 0;
        if (c == 0)
            return &eos_console__assets[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int sha256_hex(const void *data, size_t size, char out[65])
{
    uint8_t md[32];
    unsigned int n = 0;
    if (EVP_Digest(data, size, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return EOS_ECRYPTO;
    eos_hex_encode(md, 32, out);
    return 0;
}

int eos_console_self_check(eos_diag *diag)
{
    char hex[65];
    int rc;
    for (size_t i = 0; i < eos_console__asset_count; i++) {
        const eos_console_asset *a = &eos_console__assets[i];
        if ((rc = sha256_hex(a->data, a->size, hex)) != 0)
            return eos_diag_set(diag, rc, "console", -1, "SHA-256 failed");
        if (strcmp(hex, a->sha256_hex) != 0)
            return eos_diag_set(diag, EOS_ECORRUPT, "console", (int64_t)i,
                                "console asset %s hashes to %s, the build recorded %s", a->path,
                                hex, a->sha256_hex);
        if (i && strcmp(eos_console__assets[i - 1].path, a->path) >= 0)
            return eos_diag_set(diag, EOS_ECORRUPT, "console", (int64_t)i,
                                "console assets are not in bytewise path order at %s", a->path);
    }
    if ((rc = sha256_hex(eos_console__listing, strlen(eos_console__listing), hex)) != 0)
        return eos_diag_set(diag, rc, "console", -1, "SHA-256 failed");
    if (strcmp(hex, eos_console__hash_hex) != 0)
        return eos_diag_set(diag, EOS_ECORRUPT, "console", -1,
                            "the console listing hashes to %s, the build recorded %s", hex,
                            eos_console__hash_hex);
    return 0;
}

const char *eos_console_csp(void)
{
    return csp;
}

const char *eos_console_security_headers(void)
{
    return "x-content-type-options: nosniff\r\n"
           "referrer-policy: no-referrer\r\n"
           "cross-origin-opener-policy: same-origin\r\n"
           "cross-origin-resource-policy: same-origin\r\n"
           "cache-control: no-cache\r\n";
}
