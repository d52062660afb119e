/* libFuzzer target: path lookups of the file tree (src/wasi/fspath.c) on
 * arbitrary guest paths, over a fixed tree with links that climb out, point
 * at absolute paths and loop. Whatever the path, a lookup that succeeds ends
 * inside the directory it started at, in normal form (no "", "." or ".."
 * components), and never at the file outside it. */
#include <stdlib.h>
#include <string.h>

#include "../../src/wasi/internal.h"

typedef struct entry {
    const char *key; /* "m:<path>" metadata or "c:<path>\0<index>" contents */
    size_t key_size;
    uint8_t type;
    const char *target; /* a link's */
} entry;

#define M(p, t) {"m:" p, sizeof("m:" p) - 1, t, NULL}
#define L(p, to) {"m:" p, sizeof("m:" p) - 1, EOS_WASI__FS_SYMLINK, to}
static const entry tree[] = {
    M("/box", EOS_WASI__FS_DIR),   M("/box/sub", EOS_WASI__FS_DIR),
    M("/box/f", EOS_WASI__FS_FILE), M("/secret", EOS_WASI__FS_FILE),
    L("/box/up", "../secret"),     L("/box/sub/up2", "../../secret"),
    L("/box/abs", "/secret"),      L("/box/d", "sub"),
    L("/box/dd", "d/../d/"),       L("/box/loop", "loop"),
    L("/box/a", "b"),              L("/box/b", "a/x"),
    L("/box/sub/back", ".."),      L("/box/sub/self", "."),
};

static int get(eos_wasi_store_ns *ns, const char *key, size_t key_size, uint8_t **out,
               size_t *out_size)
{
    (void)ns;
    for (size_t i = 0; i < sizeof tree / sizeof *tree; i++) {
        const entry *e = &tree[i];
        size_t tl = e->target ? strlen(e->target) : 0;
        if (key_size == e->key_size && memcmp(key, e->key, key_size) == 0) {
            /* metadata: type, size (8 bytes LE), mtime (8 bytes) */
            uint8_t *v = eos_calloc(1, EOS_WASI__FSMETA_SIZE);
            if (!v)
                return EOS_ENOMEM;
            v[0] = e->type;
            v[1] = (uint8_t)tl;
            *out = v;
            *out_size = EOS_WASI__FSMETA_SIZE;
            return 0;
        }
        /* the link's contents: chunk 0, "c:<path>\0" + 16 hex digits */
        size_t pl = e->key_size - 2;
        if (e->target && key_size == 2 + pl + 17 && memcmp(key, "c:", 2) == 0 &&
            memcmp(key + 2, e->key + 2, pl) == 0 && key[2 + pl] == 0) {
            uint8_t *v = eos_malloc(tl);
            if (!v)
                return EOS_ENOMEM;
            memcpy(v, e->target, tl);
            *out = v;
            *out_size = tl;
            return 0;
        }
    }
    return EOS_ENOTFOUND;
}

static bool normal_inside(const char *p, const char *base)
{
    size_t bl = strcmp(base, "/") == 0 ? 0 : strlen(base);
    if (strncmp(p, base, bl) != 0 || (p[bl] != 0 && p[bl] != '/'))
        return false;
    if (strcmp(p, "/") == 0)
        return bl == 0;
    if (p[0] != '/' || p[strlen(p) - 1] == '/' || strstr(p, "//") || strstr(p, "/./") ||
        strstr(p, "/../"))
        return false;
    size_t n = strlen(p);
    return !(n >= 2 && strcmp(p + n - 2, "/.") == 0) && !(n >= 3 && strcmp(p + n - 3, "/..") == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *bases[] = {"/", "/box", "/box/sub", "/box/f"};
    if (size < 1)
        return 0;
    static const eos_wasi_store_ops ops = {.get = get};
    eos_wasi__ns ns = {&ops, NULL, NULL};
    const char *base = bases[data[0] & 3];
    bool follow = (data[0] & 4) != 0;
    /* A copy of exactly the path, so ASan catches any over-read. */
    char *rel = malloc(size - 1 ? size - 1 : 1);
    if (!rel)
        return 0;
    memcpy(rel, data + 1, size - 1);
    char *out = NULL;
    bool slash = false;
    int rc = eos_wasi__fs_resolve(&ns, base, rel, size - 1, follow, &out, &slash);
    if (rc == 0) {
        if (!normal_inside(out, base) || (strcmp(base, "/") != 0 && strcmp(out, "/secret") == 0))
            abort();
        eos_free(out, strlen(out) + 1);
    } else if (rc != EOS_ENOMEM && (rc < 1 || rc > EOS_WASI__FS_RDONLY)) {
        abort();
    }
    free(rel);
    return 0;
}
