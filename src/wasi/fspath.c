/* Path resolution for the file tree (fsstore.c) with symbolic links: every
 * lookup starts at a directory descriptor's path and may never leave it,
 * neither by ".." nor through a link (absolute link targets are refused), as a
 * capability-based host's preopens behave. Links are stored as entries of type
 * symbolic-link whose contents are the target text. */
#include <string.h>

#include "internal.h"

/* Links followed in one lookup before giving up with loop (Linux's 40). */
#define MAX_LINKS 40

/* Reads the target of the link at path into a fresh string (free with
 * eos_free(p, strlen(p) + 1)). */
static int read_target(const eos_wasi__ns *ns, const char *path, const eos_wasi__fsmeta *m,
                       char **out)
{
    if (m->size == 0 || m->size >= EOS_WASI__FS_PATH_MAX)
        return EOS_WASI__FS_NOENT;
    char *t = eos_malloc((size_t)m->size + 1);
    if (!t)
        return EOS_ENOMEM;
    size_t n = 0;
    int rc = eos_wasi__fs_read(ns, path, 0, (uint8_t *)t, (size_t)m->size, &n);
    if (rc || n != m->size || memchr(t, 0, n)) {
        eos_free(t, (size_t)m->size + 1);
        return rc ? rc : EOS_WASI__FS_IO;
    }
    t[n] = 0;
    *out = t;
    return 0;
}

int eos_wasi__fs_resolve(const eos_wasi__ns *ns, const char *base, const char *rel, size_t rel_size,
                         bool follow, char **out, bool *out_slash)
{
    int bad = eos_wasi__fs_rel_check(rel, rel_size);
    if (bad)
        return bad;
    if (rel_size >= EOS_WASI__FS_PATH_MAX)
        return EOS_WASI__FS_NAMETOOLONG;
    /* cur: the resolved part, never shorter than floor (the base); rest: what
     * is left to walk, with a link's target spliced in front of it. */
    size_t floor = strcmp(base, "/") == 0 ? 0 : strlen(base);
    char *cur = eos_malloc(EOS_WASI__FS_PATH_MAX + 1);
    char *rest = eos_malloc(EOS_WASI__FS_PATH_MAX + 1);
    char *target = NULL;
    int rc = 0, links = 0;
    bool slash = false;
    if (!cur || !rest) {
        rc = EOS_ENOMEM;
        goto out;
    }
    if (floor >= EOS_WASI__FS_PATH_MAX) {
        rc = EOS_WASI__FS_NAMETOOLONG;
        goto out;
    }
    memcpy(cur, base, floor);
    size_t len = floor;
    memcpy(rest, rel, rel_size);
    size_t rlen = rel_size, i = 0;
    while (i < rlen) {
        size_t j = i;
        while (j < rlen && rest[j] != '/')
            j++;
        size_t cl = j - i;
        const char *c = rest + i;
        size_t next = j;
        while (next < rlen && rest[next] == '/')
            next++;
        bool last = next == rlen;
        slash = j < rlen; /* only meaningful for the last component */
        i = next;
        if (cl == 0 || (cl == 1 && c[0] == '.'))
            continue;
        if (cl == 2 && c[0] == '.' && c[1] == '.') {
            if (len <= floor) {
                rc = EOS_WASI__FS_PERM; /* above the directory the lookup started at */
                goto out;
            }
            while (len > floor && cur[len - 1] != '/')
                len--;
            if (len > floor)
                len--;
            continue;
        }
        if (cl > 255) {
            rc = EOS_WASI__FS_NAMETOOLONG;
            goto out;
        }
        if (len + 1 + cl >= EOS_WASI__FS_PATH_MAX) {
            rc = EOS_WASI__FS_NAMETOOLONG;
            goto out;
        }
        size_t keep = len;
        cur[len++] = '/';
        memcpy(cur + len, c, cl);
        len += cl;
        cur[len] = 0;
        /* The last component is looked at by the caller unless it must be
         * followed (asked for, or a trailing slash, as POSIX resolves "l/"). */
        if (last && !follow && !slash)
            break;
        eos_wasi__fsmeta m;
        rc = eos_wasi__fs_stat(ns, cur, &m);
        if (rc == EOS_WASI__FS_NOENT && last) {
            rc = 0;
            break;
        }
        if (rc)
            goto out;
        if (m.type == EOS_WASI__FS_SYMLINK) {
            if (++links > MAX_LINKS) {
                rc = EOS_WASI__FS_LOOP;
                goto out;
            }
            if ((rc = read_target(ns, cur, &m, &target)))
                goto out;
            size_t tl = strlen(target);
            if (target[0] == '/') {
                rc = EOS_WASI__FS_PERM; /* an absolute target leaves the directory */
                goto out;
            }
            /* rest = target + what followed the link (its slashes included). */
            size_t tail = rlen - j;
            if (tl + tail >= EOS_WASI__FS_PATH_MAX) {
                rc = EOS_WASI__FS_NAMETOOLONG;
                goto out;
            }
            memmove(rest + tl, rest + j, tail);
            memcpy(rest, target, tl);
            rlen = tl + tail;
            i = 0;
            eos_free(target, tl + 1);
            target = NULL;
            len = keep;
            continue;
        }
        if (!last && m.type != EOS_WASI__FS_DIR) {
            rc = EOS_WASI__FS_NOTDIR;
            goto out;
        }
    }
    if (len == 0)
        cur[len++] = '/';
    cur[len] = 0;
    char *p = eos_strdup(cur);
    if (!p) {
        rc = EOS_ENOMEM;
        goto out;
    }
    *out = p;
    if (out_slash)
        *out_slash = slash;
out:
    if (target)
        eos_free(target, strlen(target) + 1);
    eos_free(cur, EOS_WASI__FS_PATH_MAX + 1);
    eos_free(rest, EOS_WASI__FS_PATH_MAX + 1);
    return rc;
}

int eos_wasi__fs_readlink(const eos_wasi__ns *ns, const char *path, char **out)
{
    eos_wasi__fsmeta m;
    int rc = eos_wasi__fs_stat(ns, path, &m);
    if (rc)
        return rc;
    if (m.type != EOS_WASI__FS_SYMLINK)
        return EOS_WASI__FS_INVAL;
    return read_target(ns, path, &m, out);
}
