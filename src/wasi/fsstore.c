/* A small POSIX-like file tree on the app's store (eos_wasi_store): per path a metadata
 * record ("m:" + path) and the contents in 64 KiB chunks ("c:" + path + NUL +
 * index), so a write at an offset rewrites only the chunks it touches. Every
 * change's writes go in one store transaction: a crash leaves the old or the
 * new state. Reads see committed state (not the transaction's read set): the
 * store's transactions refuse to commit after reading an absent key. */
#include <stdio.h>
#include <string.h>

#include <time.h>

#include "internal.h"

static size_t meta_key(char *out, size_t cap, const char *path)
{
    int n = snprintf(out, cap, "m:%s", path);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static size_t chunk_key(char *out, size_t cap, const char *path, uint64_t index)
{
    int n = snprintf(out, cap, "c:%s", path);
    if (n < 0 || (size_t)n + 18 > cap)
        return 0;
    out[n] = 0; /* paths never hold NUL, so it separates path and index */
    snprintf(out + n + 1, cap - (size_t)n - 1, "%016llx", (unsigned long long)index);
    return (size_t)n + 17;
}

static void meta_encode(const eos_wasi__fsmeta *m, uint8_t out[EOS_WASI__FSMETA_SIZE])
{
    out[0] = m->type;
    for (int i = 0; i < 8; i++) {
        out[1 + i] = (uint8_t)(m->size >> (8 * i));
        out[9 + i] = (uint8_t)(m->mtime_ns >> (8 * i));
    }
}

static int meta_decode(const uint8_t *b, size_t size, eos_wasi__fsmeta *m)
{
    if (size != EOS_WASI__FSMETA_SIZE)
        return EOS_ECORRUPT;
    m->type = b[0];
    m->size = 0;
    m->mtime_ns = 0;
    for (int i = 0; i < 8; i++) {
        m->size |= (uint64_t)b[1 + i] << (8 * i);
        m->mtime_ns |= (uint64_t)b[9 + i] << (8 * i);
    }
    return 0;
}

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int eos_wasi__fs_path_join(const char *base, const char *rel, size_t rel_size, char **out)
{
    /* Relative paths only, resolved lexically, never above the preopen: the
     * same rules wasmtime applies to a preopened directory. */
    int bad = eos_wasi__fs_rel_check(rel, rel_size);
    if (bad)
        return bad;
    size_t bl = strlen(base);
    size_t cap = bl + rel_size + 2;
    if (cap > EOS_WASI__FS_PATH_MAX)
        return EOS_WASI__FS_NAMETOOLONG;
    char *p = eos_malloc(cap);
    if (!p)
        return EOS_ENOMEM;
    size_t len = (bl == 1) ? 0 : bl; /* base "/" contributes nothing */
    memcpy(p, base, len);
    size_t i = 0;
    while (i < rel_size) {
        size_t j = i;
        while (j < rel_size && rel[j] != '/')
            j++;
        size_t cl = j - i;
        if (cl == 0 || (cl == 1 && rel[i] == '.')) {
            /* skip */
        } else if (cl == 2 && rel[i] == '.' && rel[i + 1] == '.') {
            if (len <= (bl == 1 ? 0 : bl)) {
                eos_free(p, cap);
                return EOS_WASI__FS_PERM;
            }
            while (len > 0 && p[len - 1] != '/')
                len--;
            if (len > 0)
                len--;
        } else {
            if (cl > 255) {
                eos_free(p, cap);
                return EOS_WASI__FS_NAMETOOLONG;
            }
            p[len++] = '/';
            memcpy(p + len, rel + i, cl);
            len += cl;
        }
        i = j + 1;
    }
    if (len == 0)
        p[len++] = '/';
    p[len] = 0;
    /* The caller frees with eos_free(p, strlen(p) + 1): shrink to fit. */
    char *q = eos_malloc(len + 1);
    if (!q) {
        eos_free(p, cap);
        return EOS_ENOMEM;
    }
    memcpy(q, p, len + 1);
    eos_free(p, cap);
    *out = q;
    return 0;
}

static int txn_meta(eos_wasi_store_txn *t, const eos_wasi__ns *ns, const char *path,
                    eos_wasi__fsmeta *m)
{
    if (strcmp(path, "/") == 0) {
        m->type = EOS_WASI__FS_DIR;
        m->size = 0;
        m->mtime_ns = 0;
        return 0;
    }
    char key[EOS_WASI__FS_PATH_MAX + 8];
    size_t kn = meta_key(key, sizeof(key), path);
    uint8_t *v = NULL;
    size_t vs = 0;
    (void)t;
    int rc = ns->ops->get(ns->h, key, kn, &v, &vs);
    if (rc == EOS_ENOTFOUND)
        return EOS_WASI__FS_NOENT;
    if (rc)
        return rc;
    rc = meta_decode(v, vs, m);
    eos_free(v, vs);
    return rc;
}

static int txn_put_meta(eos_wasi_store_txn *t, const eos_wasi__ns *ns, const char *path,
                        const eos_wasi__fsmeta *m)
{
    char key[EOS_WASI__FS_PATH_MAX + 8];
    size_t kn = meta_key(key, sizeof(key), path);
    uint8_t b[EOS_WASI__FSMETA_SIZE];
    meta_encode(m, b);
    return ns->ops->txn_set(t, ns->h, key, kn, b, sizeof(b));
}

int eos_wasi__fs_stat(const eos_wasi__ns *ns, const char *path, eos_wasi__fsmeta *out)
{
    return txn_meta(NULL, ns, path, out);
}

/* The parent of path must exist and be a directory. */
static int parent_ok(eos_wasi_store_txn *t, const eos_wasi__ns *ns, const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t pl = slash && slash != path ? (size_t)(slash - path) : 1;
    char parent[EOS_WASI__FS_PATH_MAX];
    memcpy(parent, path, pl);
    parent[pl] = 0;
    eos_wasi__fsmeta m;
    int rc = txn_meta(t, ns, parent, &m);
    if (rc == EOS_WASI__FS_NOENT)
        return EOS_WASI__FS_NOENT;
    if (rc)
        return rc;
    return m.type == EOS_WASI__FS_DIR ? 0 : EOS_WASI__FS_NOTDIR;
}

/* Runs body in a transaction, retrying a few times on a concurrent change. */
typedef int (*txn_body)(eos_wasi_store_txn *t, const eos_wasi__ns *ns, void *arg);

static int in_txn(const eos_wasi__ns *ns, txn_body body, void *arg)
{
    for (int attempt = 0; attempt < 8; attempt++) {
        eos_wasi_store_txn *t = NULL;
        int rc = ns->ops->txn_begin(ns->impl, &t);
        if (rc)
            return rc;
        rc = body(t, ns, arg);
        if (rc) {
            ns->ops->txn_abort(t);
            return rc;
        }
        rc = ns->ops->txn_commit(t);
        if (rc != EOS_ECONFLICT)
            return rc;
    }
    return EOS_ECONFLICT;
}

typedef struct create_arg {
    const char *path;
    uint8_t type;
    uint32_t oflags;
    bool write;
    eos_wasi__fsmeta *out;
} create_arg;

static int delete_chunks(eos_wasi_store_txn *t, const eos_wasi__ns *ns, const char *path,
                         uint64_t from, uint64_t to)
{
    char key[EOS_WASI__FS_PATH_MAX + 32];
    for (uint64_t i = from; i < to; i++) {
        size_t kn = chunk_key(key, sizeof(key), path, i);
        int rc = ns->ops->txn_delete(t, ns->h, key, kn);
        if (rc && rc != EOS_ENOTFOUND)
            return rc;
    }
    return 0;
}

static int open_body(eos_wasi_store_txn *t, const eos_wasi__ns *ns, void *argp)
{
    create_arg *a = argp;
    eos_wasi__fsmeta m;
    int rc = txn_meta(t, ns, a->path, &m);
    if (rc && rc != EOS_WASI__FS_NOENT)
        return rc;
    if (!rc) {
        if ((a->oflags & EOS_WASI__O_CREAT) && (a->oflags & EOS_WASI__O_EXCL))
            return EOS_WASI__FS_EXIST;
        if (m.type == EOS_WASI__FS_SYMLINK)
            return EOS_WASI__FS_LOOP; /* a link reached without following it */
        if ((a->oflags & EOS_WASI__O_DIRECTORY) && m.type != EOS_WASI__FS_DIR)
            return EOS_WASI__FS_NOTDIR;
        if (m.type == EOS_WASI__FS_DIR && (a->write || (a->oflags & EOS_WASI__O_TRUNC)))
            return EOS_WASI__FS_ISDIR;
        if ((a->oflags & EOS_WASI__O_TRUNC) && m.size) {
            rc = delete_chunks(t, ns, a->path, 0,
                               (m.size + EOS_WASI__FS_CHUNK - 1) / EOS_WASI__FS_CHUNK);
            m.size = 0;
            m.mtime_ns = wall_ns();
            if (!rc)
                rc = txn_put_meta(t, ns, a->path, &m);
            if (rc)
                return rc;
        }
        *a->out = m;
        return 0;
    }
    if (!(a->oflags & EOS_WASI__O_CREAT))
        return EOS_WASI__FS_NOENT;
    if (a->oflags & EOS_WASI__O_DIRECTORY)
        return EOS_WASI__FS_INVAL; /* create|directory: use create-directory-at */
    if ((rc = parent_ok(t, ns, a->path)))
        return rc;
    m.type = a->type;
    m.size = 0;
    m.mtime_ns = wall_ns();
    if ((rc = txn_put_meta(t, ns, a->path, &m)))
        return rc;
    *a->out = m;
    return 0;
}

int eos_wasi__fs_open(const eos_wasi__ns *ns, const char *path, uint32_t oflags, bool write,
                      eos_wasi__fsmeta *out)
{
    if (strcmp(path, "/") == 0) {
        if (oflags & EOS_WASI__O_EXCL)
            return EOS_WASI__FS_EXIST;
        if (write)
            return EOS_WASI__FS_ISDIR;
        return eos_wasi__fs_stat(ns, path, out);
    }
    create_arg a = {path, EOS_WASI__FS_FILE, oflags, write, out};
    return in_txn(ns, open_body, &a);
}

static int mkdir_body(eos_wasi_store_txn *t, const eos_wasi__ns *ns, void *argp)
{
    const char *path = argp;
    eos_wasi__fsmeta m;
    int rc = txn_meta(t, ns, path, &m);
    if (!rc)
        return EOS_WASI__FS_EXIST;
    if (rc != EOS_WASI__FS_NOENT)
        return rc;
    if ((rc = parent_ok(t, ns, path)))
        return rc;
    m.type = EOS_WASI__FS_DIR;
    m.size = 0;
    m.mtime_ns = wall_ns();
    return txn_put_meta(t, ns, path, &m);
}

typedef struct link_arg {
    const char *path, *target;
    size_t len;
} link_arg;

static int symlink_body(eos_wasi_store_txn *t, const eos_wasi__ns *ns, void *argp)
{
    link_arg *a = argp;
    eos_wasi__fsmeta m;
    int rc = txn_meta(t, ns, a->path, &m);
    if (!rc)
        return EOS_WASI__FS_EXIST;
    if (rc != EOS_WASI__FS_NOENT)
        return rc;
    if ((rc = parent_ok(t, ns, a->path)))
        return rc;
    char key[EOS_WASI__FS_PATH_MAX + 32];
    size_t kn = chunk_key(key, sizeof(key), a->path, 0);
    if ((rc = ns->ops->txn_set(t, ns->h, key, kn, (const uint8_t *)a->target, a->len)))
        return rc;
    m.type = EOS_WASI__FS_SYMLINK;
    m.size = a->len;
    m.mtime_ns = wall_ns();
    return txn_put_meta(t, ns, a->path, &m);
}

int eos_wasi__fs_symlink(const eos_wasi__ns *ns, const char *path, const char *target, size_t len)
{
    if (strcmp(path, "/") == 0)
        return EOS_WASI__FS_EXIST;
    if (len == 0 || len >= EOS_WASI__FS_PATH_MAX)
        return len ? EOS_WASI__FS_NAMETOOLONG : EOS_WASI__FS_NOENT;
    link_arg a = {path, target, len};
    return in_txn(ns, symlink_body, &a);
}

int eos_wasi__fs_mkdir(const eos_wasi__ns *ns, const char *path)
{
    if (strcmp(path, "/") == 0)
        return EOS_WASI__FS_EXIST;
    return in_txn(ns, mkdir_body, (void *)path);
}

int eos_wasi__fs_read(const eos_wasi__ns *ns, const char *path, uint64_t offset, uint8_t *buf,
                      size_t len, size_t *out_n)
{
    *out_n = 0;
    eos_wasi__fsmeta m;
    int rc = eos_wasi__fs_stat(ns, path, &m);
    if (rc)
        return rc;
    if (m.type == EOS_WASI__FS_DIR)
        return EOS_WASI__FS_ISDIR;
    if (offset >= m.size)
        return 0;
    if (len > m.size - offset)
        len = (size_t)(m.size - offset);
    char key[EOS_WASI__FS_PATH_MAX + 32];
    size_t done = 0;
    while (done < len) {
        uint64_t pos = offset + done;
        uint64_t idx = pos / EOS_WASI__FS_CHUNK;
        size_t in = (size_t)(pos % EOS_WASI__FS_CHUNK);
        size_t n = EOS_WASI__FS_CHUNK - in;
        if (n > len - done)
            n = len - done;
        size_t kn = chunk_key(key, sizeof(key), path, idx);
        uint8_t *c = NULL;
        size_t cs = 0;
        rc = ns->ops->get(ns->h, key, kn, &c, &cs);
        if (rc && rc != EOS_ENOTFOUND)
            return rc;
        /* Holes and the part of a chunk past its stored length read as zeros. */
        memset(buf + done, 0, n);
        if (!rc) {
            if (cs > in)
                memcpy(buf + done, c + in, cs - in < n ? cs - in : n);
            eos_free(c, cs);
        }
        done += n;
    }
    *out_n = len;
    return 0;
}

typedef struct write_arg {
    const char *path;
    uint64_t offset;
    const uint8_t *data;
    size_t len;
    bool append;
    uint64_t *out_end;
} write_arg;

static int write_body(eos_wasi_store_txn *t, const eos_wasi__ns *ns, void *argp)
{
    write_arg *a = argp;
    eos_wasi__fsmeta m;
    int rc = txn_meta(t, ns, a->path, &m);
    if (rc)
        return rc;
    if (m.type == EOS_WASI__FS_DIR)
        return EOS_WASI__FS_ISDIR;
    uint64_t offset = a->append ? m.size : a->offset;
    if (offset > EOS_WASI__FS_MAX_SIZE || a->len > EOS_WASI__FS_MAX_SIZE - offset)
        return EOS_WASI__FS_FBIG;
    char key[EOS_WASI__FS_PATH_MAX + 32];
    uint8_t *chunk = eos_malloc(EOS_WASI__FS_CHUNK);
    if (!chunk)
        return EOS_ENOMEM;
    size_t done = 0;
    while (done < a->len) {
        uint64_t pos = offset + done;
        uint64_t idx = pos / EOS_WASI__FS_CHUNK;
        size_t in = (size_t)(pos % EOS_WASI__FS_CHUNK);
        size_t n = EOS_WASI__FS_CHUNK - in;
        if (n > a->len - done)
            n = a->len - done;
        size_t kn = chunk_key(key, sizeof(key), a->path, idx);
        size_t have = 0;
        if (in != 0 || n != EOS_WASI__FS_CHUNK) {
            uint8_t *c = NULL;
            size_t cs = 0;
            rc = ns->ops->get(ns->h, key, kn, &c, &cs);
            if (rc && rc != EOS_ENOTFOUND)
                break;
            rc = 0;
            if (c) {
                have = cs > EOS_WASI__FS_CHUNK ? EOS_WASI__FS_CHUNK : cs;
                memcpy(chunk, c, have);
                eos_free(c, cs);
            }
        }
        if (in > have)
            memset(chunk + have, 0, in - have);
        memcpy(chunk + in, a->data + done, n);
        size_t len = in + n > have ? in + n : have;
        if ((rc = ns->ops->txn_set(t, ns->h, key, kn, chunk, len)))
            break;
        done += n;
    }
    eos_free(chunk, EOS_WASI__FS_CHUNK);
    if (rc)
        return rc;
    if (offset + a->len > m.size)
        m.size = offset + a->len;
    m.mtime_ns = wall_ns();
    *a->out_end = offset + a->len;
    return txn_put_meta(t, ns, a->path, &m);
}

int eos_wasi__fs_write(const eos_wasi__ns *ns, const char *path, uint64_t offset,
                       const uint8_t *data, size_t len, bool append, uint64_t *out_end)
{
    uint64_t end = 0;
    write_arg a = {path, offset, data, len, append, out_end ? out_end : &end};
    return in_txn(ns, write_body, &a);
}

typedef struct size_arg {
    const char *path;
    uint64_t size;
} size_arg;

static int truncate_body(eos_wasi_store_txn *t, const eos_wasi__ns *ns, void *argp)
{
    size_arg *a = argp;
    eos_wasi__fsmeta m;
    int rc = txn_meta(t, ns, a->path, &m);
    if (rc)
        return rc;
    if (m.type == EOS_WASI__FS_DIR)
        return EOS_WASI__FS_ISDIR;
    if (a->size > EOS_WASI__FS_MAX_SIZE)
        return EOS_WASI__FS_FBIG;
    if (a->size < m.size) {
        uint64_t keep = (a->size + EOS_WASI__FS_CHUNK - 1) / EOS_WASI__FS_CHUNK;
        uint64_t had = (m.size + EOS_WASI__FS_CHUNK - 1) / EOS_WASI__FS_CHUNK;
        if ((rc = delete_chunks(t, ns, a->path, keep, had)))
            return rc;
        /* Cut the last kept chunk so that growing the file later reads zeros. */
        size_t tail = (size_t)(a->size % EOS_WASI__FS_CHUNK);
        if (tail) {
            char key[EOS_WASI__FS_PATH_MAX + 32];
            size_t kn = chunk_key(key, sizeof(key), a->path, keep - 1);
            uint8_t *c = NULL;
            size_t cs = 0;
            rc = ns->ops->get(ns->h, key, kn, &c, &cs);
            if (!rc && cs > tail)
                rc = ns->ops->txn_set(t, ns->h, key, kn, c, tail);
            if (c)
                eos_free(c, cs);
            if (rc && rc != EOS_ENOTFOUND)
                return rc;
        }
    }
    m.size = a->size;
    m.mtime_ns = wall_ns();
    return txn_put_meta(t, ns, a->path, &m);
}

int eos_wasi__fs_truncate(const eos_wasi__ns *ns, const char *path, uint64_t size)
{
    size_arg a = {path, size};
    return in_txn(ns, truncate_body, &a);
}

int eos_wasi__fs_set_mtime(const eos_wasi__ns *ns, const char *path, uint64_t mtime_ns)
{
    eos_wasi_store_txn *t = NULL;
    eos_wasi__fsmeta m;
    if (strcmp(path, "/") == 0)
        return 0;
    int rc = ns->ops->txn_begin(ns->impl, &t);
    if (rc)
        return rc;
    rc = txn_meta(t, ns, path, &m);
    if (!rc) {
        m.mtime_ns = mtime_ns;
        rc = txn_put_meta(t, ns, path, &m);
    }
    if (rc) {
        ns->ops->txn_abort(t);
        return rc;
    }
    return ns->ops->txn_commit(t);
}

int eos_wasi__fs_readdir(const eos_wasi__ns *ns, const char *path, eos_wasi__fsdirent **out,
                         size_t *out_count)
{
    eos_wasi__fsmeta m;
    int rc = eos_wasi__fs_stat(ns, path, &m);
    if (rc)
        return rc;
    if (m.type != EOS_WASI__FS_DIR)
        return EOS_WASI__FS_NOTDIR;
    char prefix[EOS_WASI__FS_PATH_MAX + 8];
    int pn = snprintf(prefix, sizeof(prefix), "m:%s/", strcmp(path, "/") == 0 ? "" : path);
    eos_wasi__fsdirent *ents = NULL;
    size_t n = 0, cap = 0;
    char cursor[EOS_WASI_STORE_CURSOR_SIZE] = "";
    do {
        eos_wasi_store_page page;
        memset(&page, 0, sizeof(page));
        rc = ns->ops->list(ns->h, prefix, (size_t)pn, cursor, 0, &page);
        if (rc)
            break;
        for (size_t i = 0; i < page.count && !rc; i++) {
            const char *name = page.keys[i] + pn;
            size_t nl = page.key_sizes[i] - (size_t)pn;
            if (nl == 0 || memchr(name, '/', nl))
                continue; /* deeper descendants */
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 16;
                eos_wasi__fsdirent *v = eos_realloc(ents, cap * sizeof(*v), nc * sizeof(*v));
                if (!v) {
                    rc = EOS_ENOMEM;
                    break;
                }
                ents = v;
                cap = nc;
            }
            eos_wasi__fsmeta cm;
            char full[EOS_WASI__FS_PATH_MAX];
            snprintf(full, sizeof(full), "%.*s", (int)page.key_sizes[i] - 2, page.keys[i] + 2);
            ents[n].type = eos_wasi__fs_stat(ns, full, &cm) == 0 ? cm.type : EOS_WASI__FS_FILE;
            ents[n].name = eos_malloc(nl + 1);
            if (!ents[n].name) {
                rc = EOS_ENOMEM;
                break;
            }
            memcpy(ents[n].name, name, nl);
            ents[n].name[nl] = 0;
            n++;
        }
        snprintf(cursor, sizeof(cursor), "%s", page.cursor);
        ns->ops->list_free(&page);
    } while (!rc && cursor[0]);
    if (rc) {
        eos_wasi__fs_dirents_free(ents, n);
        return rc;
    }
    if (!ents)
        ents = eos_calloc(1, sizeof(*ents));
    *out = ents;
    *out_count = n;
    return ents ? 0 : EOS_ENOMEM;
}

void eos_wasi__fs_dirents_free(eos_wasi__fsdirent *ents, size_t count)
{
    if (!ents)
        return;
    for (size_t i = 0; i < count; i++)
        eos_free(ents[i].name, strlen(ents[i].name) + 1);
    eos_free(ents, count ? count * sizeof(*ents) : sizeof(*ents));
}

typedef struct rm_arg {
    const char *path;
    bool dir;
    const eos_wasi__ns *ns;
} rm_arg;

static int rm_body(eos_wasi_store_txn *t, const eos_wasi__ns *ns, void *argp)
{
    rm_arg *a = argp;
    eos_wasi__fsmeta m;
    int rc = txn_meta(t, ns, a->path, &m);
    if (rc)
        return rc;
    if (a->dir && m.type != EOS_WASI__FS_DIR)
        return EOS_WASI__FS_NOTDIR;
    if (!a->dir && m.type == EOS_WASI__FS_DIR)
        return EOS_WASI__FS_ISDIR;
    if (a->dir) {
        eos_wasi__fsdirent *ents = NULL;
        size_t n = 0;
        if ((rc = eos_wasi__fs_readdir(ns, a->path, &ents, &n)))
            return rc;
        eos_wasi__fs_dirents_free(ents, n);
        if (n)
            return EOS_WASI__FS_NOTEMPTY;
    } else if ((rc = delete_chunks(t, ns, a->path, 0,
                                   (m.size + EOS_WASI__FS_CHUNK - 1) / EOS_WASI__FS_CHUNK))) {
        return rc;
    }
    char key[EOS_WASI__FS_PATH_MAX + 8];
    size_t kn = meta_key(key, sizeof(key), a->path);
    return ns->ops->txn_delete(t, ns->h, key, kn);
}

int eos_wasi__fs_remove(const eos_wasi__ns *ns, const char *path, bool dir)
{
    if (strcmp(path, "/") == 0)
        return dir ? EOS_WASI__FS_BUSY : EOS_WASI__FS_ISDIR;
    rm_arg a = {path, dir, ns};
    return in_txn(ns, rm_body, &a);
}

/* Moves one file's metadata and chunks from old to new inside t. */
static int move_file(eos_wasi_store_txn *t, const eos_wasi__ns *ns, const char *from,
                     const char *to, const eos_wasi__fsmeta *m)
{
    char k1[EOS_WASI__FS_PATH_MAX + 32], k2[EOS_WASI__FS_PATH_MAX + 32];
    uint64_t chunks =
        m->type == EOS_WASI__FS_DIR ? 0 : (m->size + EOS_WASI__FS_CHUNK - 1) / EOS_WASI__FS_CHUNK;
    int rc = 0;
    for (uint64_t i = 0; i < chunks && !rc; i++) {
        size_t n1 = chunk_key(k1, sizeof(k1), from, i);
        size_t n2 = chunk_key(k2, sizeof(k2), to, i);
        uint8_t *c = NULL;
        size_t cs = 0;
        rc = ns->ops->get(ns->h, k1, n1, &c, &cs);
        if (rc == EOS_ENOTFOUND) {
            rc = ns->ops->txn_delete(t, ns->h, k2, n2);
            if (rc == EOS_ENOTFOUND)
                rc = 0;
            continue;
        }
        if (!rc)
            rc = ns->ops->txn_set(t, ns->h, k2, n2, c, cs);
        if (c)
            eos_free(c, cs);
        if (!rc)
            rc = ns->ops->txn_delete(t, ns->h, k1, n1);
    }
    if (rc)
        return rc;
    size_t n1 = meta_key(k1, sizeof(k1), from);
    if ((rc = ns->ops->txn_delete(t, ns->h, k1, n1)))
        return rc;
    return txn_put_meta(t, ns, to, m);
}

typedef struct mv_arg {
    const char *from, *to;
} mv_arg;

static int mv_tree(eos_wasi_store_txn *t, const eos_wasi__ns *ns, const char *from, const char *to,
                   int depth)
{
    eos_wasi__fsmeta m;
    int rc = txn_meta(t, ns, from, &m);
    if (rc)
        return rc;
    if (m.type == EOS_WASI__FS_DIR) {
        if (depth > 64)
            return EOS_WASI__FS_LOOP;
        eos_wasi__fsdirent *ents = NULL;
        size_t n = 0;
        if ((rc = eos_wasi__fs_readdir(ns, from, &ents, &n)))
            return rc;
        for (size_t i = 0; i < n && !rc; i++) {
            char f[EOS_WASI__FS_PATH_MAX], d[EOS_WASI__FS_PATH_MAX];
            snprintf(f, sizeof(f), "%s/%s", from, ents[i].name);
            snprintf(d, sizeof(d), "%s/%s", to, ents[i].name);
            if (strlen(d) + 1 >= sizeof(d))
                rc = EOS_WASI__FS_NAMETOOLONG;
            else
                rc = mv_tree(t, ns, f, d, depth + 1);
        }
        eos_wasi__fs_dirents_free(ents, n);
        if (rc)
            return rc;
    }
    return move_file(t, ns, from, to, &m);
}

static int mv_body(eos_wasi_store_txn *t, const eos_wasi__ns *ns, void *argp)
{
    mv_arg *a = argp;
    eos_wasi__fsmeta src, dst;
    int rc = txn_meta(t, ns, a->from, &src);
    if (rc)
        return rc;
    if (strcmp(a->from, a->to) == 0)
        return 0;
    size_t fl = strlen(a->from);
    if (src.type == EOS_WASI__FS_DIR && strncmp(a->to, a->from, fl) == 0 && a->to[fl] == '/')
        return EOS_WASI__FS_INVAL; /* into its own subtree */
    if ((rc = parent_ok(t, ns, a->to)))
        return rc;
    rc = txn_meta(t, ns, a->to, &dst);
    if (!rc) {
        /* POSIX rename: a file replaces a file, a directory an empty directory. */
        if (src.type == EOS_WASI__FS_DIR && dst.type != EOS_WASI__FS_DIR)
            return EOS_WASI__FS_NOTDIR;
        if (src.type != EOS_WASI__FS_DIR && dst.type == EOS_WASI__FS_DIR)
            return EOS_WASI__FS_ISDIR;
        rm_arg r = {a->to, dst.type == EOS_WASI__FS_DIR, ns};
        if ((rc = rm_body(t, ns, &r)))
            return rc;
    } else if (rc != EOS_WASI__FS_NOENT) {
        return rc;
    }
    return mv_tree(t, ns, a->from, a->to, 0);
}

int eos_wasi__fs_rename(const eos_wasi__ns *ns, const char *from, const char *to)
{
    if (strcmp(from, "/") == 0 || strcmp(to, "/") == 0)
        return EOS_WASI__FS_BUSY;
    mv_arg a = {from, to};
    return in_txn(ns, mv_body, &a);
}
