/* The embedded console: lookups by path, the build-time hashes against the
 * bytes embedded, and the embedded bytes against the console/ folder they
 * were made from (its path is argv[1]). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "eos/console.h"
#include "harness.h"

static const char *source_dir;

static const eos_console_asset *find(const char *p)
{
    return eos_console_find(p, strlen(p));
}

static void test_self_check(void)
{
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_console_self_check(&d), 0);
    if (d.code)
        fprintf(stderr, "%s\n", d.message);
}

static void test_lookup(void)
{
    const eos_console_asset *idx = find("index.html");
    EOS_CHECK(idx != NULL);
    EOS_CHECK(find("") == idx);
    EOS_CHECK(find("/") == idx);
    EOS_CHECK(find("/index.html") == idx);
    if (idx)
        EOS_CHECK_STR(idx->content_type, "text/html; charset=utf-8");
    const eos_console_asset *js = find("js/main.js");
    EOS_CHECK(js != NULL);
    if (js)
        EOS_CHECK_STR(js->content_type, "text/javascript; charset=utf-8");
    EOS_CHECK(find("console.css") != NULL);
    EOS_CHECK(find("index.htm") == NULL);
    EOS_CHECK(find("index.html5") == NULL);
    EOS_CHECK(find("../index.html") == NULL);
    EOS_CHECK(find("js") == NULL);
    EOS_CHECK(find("JS/MAIN.JS") == NULL);
    EOS_CHECK(eos_console_find("index.html", 5) == NULL);
    /* Every asset is found under its own path. */
    for (size_t i = 0; i < eos_console_asset_count(); i++)
        EOS_CHECK(find(eos_console_asset_at(i)->path) == eos_console_asset_at(i));
    EOS_CHECK(eos_console_asset_at(eos_console_asset_count()) == NULL);
}

static void test_listing_and_hash(void)
{
    size_t size = 0;
    const char *listing = eos_console_listing(&size);
    EOS_CHECK_INT(size, strlen(listing));
    /* One "<hex>  <path>\n" line per asset, in table order. */
    const char *p = listing;
    for (size_t i = 0; i < eos_console_asset_count(); i++) {
        const eos_console_asset *a = eos_console_asset_at(i);
        char line[512];
        snprintf(line, sizeof line, "%s  %s\n", a->sha256_hex, a->path);
        EOS_CHECK(strncmp(p, line, strlen(line)) == 0);
        p += strlen(line);
    }
    EOS_CHECK_INT(*p, 0);
    uint8_t h[32], want[32];
    SHA256((const uint8_t *)listing, size, h);
    eos_console_hash(want);
    EOS_CHECK_MEM(h, 32, want, 32);
    const eos_console_asset *l = find("assets.sha256");
    EOS_CHECK(l != NULL);
    if (l) {
        EOS_CHECK_MEM(l->data, l->size, listing, size);
        EOS_CHECK_STR(l->sha256_hex, eos_console_hash_hex());
    }
    EOS_CHECK(strstr(eos_console_csp(), "script-src 'self'") != NULL);
    EOS_CHECK(strstr(eos_console_csp(), "unsafe") == NULL);
}

static void test_matches_source(void)
{
    if (!source_dir)
        return;
    for (size_t i = 0; i < eos_console_asset_count(); i++) {
        const eos_console_asset *a = eos_console_asset_at(i);
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", source_dir, a->path);
        FILE *f = fopen(path, "rb");
        EOS_CHECK(f != NULL);
        if (!f)
            continue;
        uint8_t *buf = malloc(a->size + 1);
        size_t n = buf ? fread(buf, 1, a->size + 1, f) : 0;
        fclose(f);
        EOS_CHECK_MEM(buf, n, a->data, a->size);
        free(buf);
    }
}

int main(int argc, char **argv)
{
    source_dir = argc > 1 ? argv[1] : NULL;
    EOS_RUN(test_self_check);
    EOS_RUN(test_lookup);
    EOS_RUN(test_listing_and_hash);
    EOS_RUN(test_matches_source);
    return eos_test_finish();
}
