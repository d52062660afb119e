/* wasi:filesystem types and preopens: one preopened directory "/" per app,
 * backed by the file tree in the app's store namespace "app:<name>/fs"
 * (fsstore.c). Descriptors are paths plus the flags they were opened with. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* descriptor-flags bits */
enum { DF_READ = 1, DF_WRITE = 2, DF_MUTATE_DIR = 32 };

typedef struct fdesc {
    char *path;
    uint8_t type;
    uint32_t flags;
} fdesc;

typedef struct dirstream {
    eos_wasi__fsdirent *ents;
    size_t count, next;
} dirstream;

typedef struct fstream {
    char *path;
    uint64_t offset;
    bool append;
} fstream;

static void fdesc_free(fdesc *d)
{
    eos_free(d->path, strlen(d->path) + 1);
    eos_free(d, sizeof(*d));
}

void eos_wasi__fs_free_obj(eos_wasi__ctx *ctx, uint8_t type, void *obj)
{
    if (type == EOS_WASI__R_FS_DESC) {
        fdesc_free(obj);
    } else {
        dirstream *s = obj;
        eos_wasi__fs_dirents_free(s->ents, s->count);
        eos_free(s, sizeof(*s));
    }
}

static int fs_ns(eos_wasi__ctx *ctx, const eos_wasi__ns **out)
{
    int rc = eos_wasi__ns_open(ctx->app, "fs", 2, out);
    return rc == EOS_EUNAVAILABLE ? EOS_WASI__FS_NOTSUP : rc;
}

/* Sets res to err(error-code) for an fsstore result (store errors are io). */
static int fs_err(eos_wasi__ctx *ctx, eos_cm_val *res, int rc)
{
    eos_cm_val *e = eos_wasi__val_new(ctx, 1);
    if (!e)
        return EOS_ENOMEM;
    if (rc == EOS_ENOMEM)
        e->of.var.index = 22; /* insufficient-memory */
    else if (rc == EOS_ELIMIT)
        e->of.var.index = 23; /* insufficient-space */
    else if (rc < 0)
        e->of.var.index = EOS_WASI__FS_IO - 1;
    else
        e->of.var.index = (uint32_t)rc - 1;
    return eos_wasi__err(res, e);
}

static uint32_t desc_add(eos_wasi__ctx *ctx, const char *path, uint8_t type, uint32_t flags)
{
    fdesc *d = eos_calloc(1, sizeof(*d));
    if (!d || !(d->path = eos_strdup(path))) {
        eos_free(d, sizeof(*d));
        return 0;
    }
    d->type = type;
    d->flags = flags;
    return eos_wasi__res_new(ctx, EOS_WASI__R_FS_DESC, d);
}

/* Resolves a path argument against a directory descriptor (fspath.c). */
static int resolve(const eos_wasi__ns *ns, fdesc *d, const eos_cm_val *path, bool follow,
                   char **out, bool *slash)
{
    if (d->type != EOS_WASI__FS_DIR)
        return EOS_WASI__FS_NOTDIR;
    return eos_wasi__fs_resolve(ns, d->path, path->of.str.ptr, path->of.str.len, follow, out,
                                slash);
}

/* path-flags.symlink-follow */
static bool follows(const eos_cm_val *path_flags)
{
    return (path_flags->of.flags.bits & 1) != 0;
}

/* A path with a trailing slash names a directory: not-directory otherwise. */
static int slash_check(const eos_wasi__ns *ns, const char *path, bool slash)
{
    eos_wasi__fsmeta m;
    if (!slash || eos_wasi__fs_stat(ns, path, &m) != 0)
        return 0;
    return m.type == EOS_WASI__FS_DIR ? 0 : EOS_WASI__FS_NOTDIR;
}

static void free_path(char *p)
{
    if (p)
        eos_free(p, strlen(p) + 1);
}

/* ---- streams over files ---- */

static int file_read(eos_wasi__ctx *ctx, void *impl, uint8_t *buf, size_t cap, size_t *out_size)
{
    fstream *s = impl;
    const eos_wasi__ns *ns = NULL;
    int rc = fs_ns(ctx, &ns);
    if (!rc)
        rc = eos_wasi__fs_read(ns, s->path, s->offset, buf, cap, out_size);
    if (rc)
        return rc > 0 ? EOS_EIO : rc;
    if (*out_size == 0 && cap)
        return EOS_ECLOSED;
    s->offset += *out_size;
    return 0;
}

static int file_space(eos_wasi__ctx *ctx, void *impl, uint64_t *out_space)
{
    *out_space = EOS_WASI__FS_CHUNK;
    return 0;
}

static int file_write(eos_wasi__ctx *ctx, void *impl, const uint8_t *data, size_t size)
{
    fstream *s = impl;
    const eos_wasi__ns *ns = NULL;
    uint64_t end = 0;
    int rc = fs_ns(ctx, &ns);
    if (!rc)
        rc = eos_wasi__fs_write(ns, s->path, s->offset, data, size, s->append, &end);
    if (rc)
        return rc > 0 ? EOS_EIO : rc;
    s->offset = end;
    return 0;
}

static int file_flush(eos_wasi__ctx *ctx, void *impl, bool blocking)
{
    return 0; /* every write is durable when it returns */
}

static void file_release(eos_wasi__ctx *ctx, void *impl)
{
    fstream *s = impl;
    free_path(s->path);
    eos_free(s, sizeof(*s));
}

static fstream *fstream_new(const char *path, uint64_t offset, bool append)
{
    fstream *s = eos_calloc(1, sizeof(*s));
    if (!s || !(s->path = eos_strdup(path))) {
        eos_free(s, sizeof(*s));
        return NULL;
    }
    s->offset = offset;
    s->append = append;
    return s;
}

static int d_read_via_stream(eos_cm_call *call, void *ud, const eos_cm_val *args,
                             eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, fdesc, d, EOS_WASI__R_FS_DESC);
    if (d->type == EOS_WASI__FS_DIR)
        return fs_err(ctx, &results[0], EOS_WASI__FS_ISDIR);
    if (!(d->flags & DF_READ))
        return fs_err(ctx, &results[0], EOS_WASI__FS_BADF);
    fstream *s = fstream_new(d->path, args[1].of.u, false);
    if (!s)
        return EOS_ENOMEM;
    eos_wasi__istream t = {.read = file_read, .release = file_release, .impl = s};
    return eos_wasi__ok_handle(ctx, &results[0], eos_wasi__istream_new(ctx, &t));
}

static int write_stream(eos_cm_call *call, const eos_cm_val *args, eos_cm_val *results, bool append)
{
    EOS_WASI__SELF(ctx, fdesc, d, EOS_WASI__R_FS_DESC);
    if (d->type == EOS_WASI__FS_DIR)
        return fs_err(ctx, &results[0], EOS_WASI__FS_ISDIR);
    if (!(d->flags & DF_WRITE))
        return fs_err(ctx, &results[0], EOS_WASI__FS_BADF);
    fstream *s = fstream_new(d->path, append ? 0 : args[1].of.u, append);
    if (!s)
        return EOS_ENOMEM;
    eos_wasi__ostream t = {.space = file_space,
                           .write = file_write,
                           .flush = file_flush,
                           .release = file_release,
                           .impl = s};
    return eos_wasi__ok_handle(ctx, &results[0], eos_wasi__ostream_new(ctx, &t));
}

static int d_write_via_stream(eos_cm_call *call, void *ud, const eos_cm_val *args,
                              eos_cm_val *results)
{
    return write_stream(call, args, results, false);
}

static int d_append_via_stream(eos_cm_call *call, void *ud, const eos_cm_val *args,
                               eos_cm_val *results)
{
    return write_stream(call, args, results, true);
}

static int d_ok(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    /* advise, sync, sync-data: writes are durable at return already. */
    EOS_WASI__SELF(ctx, fdesc, d, EOS_WASI__R_FS_DESC);
    return eos_wasi__ok(&results[0], NULL);
}

static int d_get_flags(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, fdesc, d, EOS_WASI__R_FS_DESC);
    return eos_wasi__ok_flags(ctx, &results[0], d->flags);
}

static int d_get_type(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, fdesc, d, EOS_WASI__R_FS_DESC);
    return eos_wasi__ok_case(ctx, &results[0], d->type);
}

static int d_set_size(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, fdesc, d, EOS_WASI__R_FS_DESC);
    if (d->type == EOS_WASI__FS_DIR)
        return fs_err(ctx, &results[0], EOS_WASI__FS_ISDIR);
    if (!(d->flags & DF_WRITE))
        return fs_err(ctx, &results[0], EOS_WASI__FS_BADF);
    const eos_wasi__ns *ns = NULL;
    int rc = fs_ns(ctx, &ns);
    if (!rc)
        rc = eos_wasi__fs_truncate(ns, d->path, args[1].of.u);
    return rc ? fs_err(ctx, &results[0], rc) : eos_wasi__ok(&results[0], NULL);
}

/* new-timestamp: no-change, now, timestamp(datetime). Returns false for no-change. */
static bool new_time(const eos_cm_val *v, uint64_t *out)
{
    if (v->of.var.index == 0)
        return false;
    if (v->of.var.index == 1) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        *out = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    } else {
        const eos_cm_val *f = v->of.var.payload->of.list.items;
        *out = f[0].of.u * 1000000000u + f[1].of.u;
    }
    return true;
}

static int set_times(eos_wasi__ctx *ctx, const char *path, const eos_cm_val *mtime, eos_cm_val *res)
{
    const eos_wasi__ns *ns = NULL;
    uint64_t t = 0;
    int rc = fs_ns(ctx, &ns);
    eos_wasi__fsmeta m;
    if (!rc)
        rc = eos_wasi__fs_stat(ns, path, &m);
    if (!rc && new_time(mtime, &t))
        rc = eos_wasi__fs_set_mtime(ns, path, t);
    return rc ? fs_err(ctx, res, rc) : eos_wasi__ok(res, NULL);
}

static int d_set_times(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, fdesc, d, EOS_WASI__R_FS_DESC);
    return set_times(ctx, d->path, &args[2], &results[0]);
}

static int d_read(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, fdesc, d, EOS_WASI__R_FS_DESC);
    if (d->type == EOS_WASI__FS_DIR)
        return fs_err(ctx, &results[0], EOS_WASI__FS_ISDIR);
    if (!(d->flags & DF_READ))
        return fs_err(ctx, &results[0], EOS_WASI__FS_BADF);
    uint64_t len = args[1].of.u;
    if (len > 4 * EOS_WASI__FS_CHUNK)
        len = 4 * EOS_WASI__FS_CHUNK; /* a short read, as POSIX allows */
    eos_cm_val *v = eos_wasi__val_new(ctx, 3);
    uint8_t *buf = eos_wasi__scratch_alloc(ctx, (size_t)len + 1);
    if (!v || !buf)
        return EOS_ENOMEM;
    const eos_wasi__ns *ns = NULL;
    size_t n = 0;
    int rc = fs_ns(ctx, &ns);
    eos_wasi__fsmeta m = {0};
    if (!rc)
        rc = eos_wasi__fs_read(ns, d->path, args[2].of.u, buf, (size_t)len, &n);
    if (!rc)
        rc = eos_wasi__fs_stat(ns, d->path, &m);
    if (rc)
        return fs_err(ctx, &results[0], rc);
    v[1].of.list.bytes = buf;
    v[1].of.list.len = n;
    v[2].of.b = args[2].of.u + n >= m.size;
    v[0].of.list.items = &v[1];
    v[0].of.list.len = 2;
    return eos_wasi__ok(&results[0], &v[0]);
}

static int d_write(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, fdesc, d, EOS_WASI__R_FS_DESC);
    if (d->type == EOS_WASI__FS_DIR)
        return fs_err(ctx, &results[0], EOS_WASI__FS_ISDIR);
    if (!(d->flags & DF_WRITE))
        return fs_err(ctx, &results[0], EOS_WASI__FS_BADF);
    const eos_wasi__ns *ns = NULL;
    int rc = fs_ns(ctx, &ns);
    if (!rc)
        rc = eos_wasi__fs_write(ns, d->path, args[2].of.u, args[1].of.list.bytes,
                                args[1].of.list.len, false, NULL);
    if (rc)
        return fs_err(ctx, &results[0], rc);
    return eos_wasi__ok_u64(ctx, &results[0], args[1].of.list.len);
}

static int d_read_directory(eos_cm_call *call, void *ud, const eos_cm_val *args,
                            eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, fdesc, d, EOS_WASI__R_FS_DESC);
    if (d->type != EOS_WASI__FS_DIR)
        return fs_err(ctx, &results[0], EOS_WASI__FS_NOTDIR);
    dirstream *s = eos_calloc(1, sizeof(*s));
    if (!s)
        return EOS_ENOMEM;
    const eos_wasi__ns *ns = NULL;
    int rc = fs_ns(ctx, &ns);
    if (!rc)
        rc = eos_wasi__fs_readdir(ns, d->path, &s->ents, &s->count);
    if (rc) {
        eos_free(s, sizeof(*s));
        return fs_err(ctx, &results[0], rc);
    }
    return eos_wasi__ok_handle(ctx, &results[0],
                               eos_wasi__res_new(ctx, EOS_WASI__R_FS_DIRSTREAM, s));
}

static int dir_next(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, dirstream, s, EOS_WASI__R_FS_DIRSTREAM);
    eos_cm_val *v = eos_wasi__val_new(ctx, 4);
    if (!v)
        return EOS_ENOMEM;
    if (s->next < s->count) {
        eos_wasi__fsdirent *e = &s->ents[s->next++];
        v[0].of.var.index = 1;
        v[0].of.var.payload = &v[1];
        v[1].of.list.items = &v[2];
        v[1].of.list.len = 2;
        v[2].of.var.index = e->type;
        if (!eos_wasi__val_str(ctx, &v[3], e->name, strlen(e->name)))
            return EOS_ENOMEM;
    }
    return eos_wasi__ok(&results[0], &v[0]);
}

static int stat_value(eos_wasi__ctx *ctx, const eos_wasi__fsmeta *m, eos_cm_val *res)
{
    eos_cm_val *v = eos_wasi__val_new(ctx, 16);
    if (!v)
        return EOS_ENOMEM;
    v[0].of.list.items = &v[1];
    v[0].of.list.len = 6;
    v[1].of.var.index = m->type;
    v[2].of.u = 1;
    v[3].of.u = m->size;
    /* data-access: none (not tracked); modification and status-change: mtime. */
    v[4].of.var.index = 0;
    for (int i = 0; i < 2; i++) {
        eos_cm_val *opt = &v[5 + i];
        eos_cm_val *dt = &v[7 + 3 * i];
        opt->of.var.index = 1;
        opt->of.var.payload = dt;
        dt->of.list.items = dt + 1;
        dt->of.list.len = 2;
        dt[1].of.u = m->mtime_ns / 1000000000u;
        dt[2].of.u = m->mtime_ns % 1000000000u;
    }
    return eos_wasi__ok(res, &v[0]);
}

static int d_stat(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, fdesc, d, EOS_WASI__R_FS_DESC);
    const eos_wasi__ns *ns = NULL;
    eos_wasi__fsmeta m;
    int rc = fs_ns(ctx, &ns);
    if (!rc)
        rc = eos_wasi__fs_stat(ns, d->path, &m);
    return rc ? fs_err(ctx, &results[0], rc) : stat_value(ctx, &m, &results[0]);
}

/* The pattern of every *-at function: resolve (following the last link or
 * not), run, map the result. */
#define AT_BEGIN(pathv, follow)                                                                    \
    EOS_WASI__SELF(ctx, fdesc, d, EOS_WASI__R_FS_DESC);                                            \
    char *path = NULL;                                                                             \
    bool slash = false;                                                                            \
    const eos_wasi__ns *ns = NULL;                                                                 \
    int rc = fs_ns(ctx, &ns);                                                                      \
    if (!rc)                                                                                       \
    rc = resolve(ns, d, (pathv), (follow), &path, &slash)

static int d_stat_at(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    AT_BEGIN(&args[2], follows(&args[1]));
    eos_wasi__fsmeta m;
    if (!rc)
        rc = eos_wasi__fs_stat(ns, path, &m);
    if (!rc && slash && m.type != EOS_WASI__FS_DIR)
        rc = EOS_WASI__FS_NOTDIR;
    free_path(path);
    return rc ? fs_err(ctx, &results[0], rc) : stat_value(ctx, &m, &results[0]);
}

static int d_set_times_at(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    AT_BEGIN(&args[2], follows(&args[1]));
    if (!rc)
        rc = slash_check(ns, path, slash);
    if (rc) {
        free_path(path);
        return fs_err(ctx, &results[0], rc);
    }
    rc = set_times(ctx, path, &args[4], &results[0]);
    free_path(path);
    return rc;
}

static int d_create_directory_at(eos_cm_call *call, void *ud, const eos_cm_val *args,
                                 eos_cm_val *results)
{
    AT_BEGIN(&args[1], false);
    if (!rc && !(d->flags & DF_MUTATE_DIR))
        rc = EOS_WASI__FS_RDONLY;
    if (!rc)
        rc = eos_wasi__fs_mkdir(ns, path);
    free_path(path);
    return rc ? fs_err(ctx, &results[0], rc) : eos_wasi__ok(&results[0], NULL);
}

static int d_open_at(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    AT_BEGIN(&args[2], follows(&args[1]));
    uint32_t oflags = (uint32_t)args[3].of.flags.bits;
    if (slash)
        oflags |= EOS_WASI__O_DIRECTORY; /* "name/" must be a directory */
    uint32_t flags = (uint32_t)args[4].of.flags.bits;
    bool write = (flags & DF_WRITE) != 0;
    /* Creating or truncating needs a directory opened for mutation, and
     * write access needs the parent's, as in wasmtime. */
    if (!rc && (write || (oflags & (EOS_WASI__O_CREAT | EOS_WASI__O_TRUNC))) &&
        !(d->flags & DF_MUTATE_DIR))
        rc = EOS_WASI__FS_RDONLY;
    eos_wasi__fsmeta m;
    if (!rc)
        rc = eos_wasi__fs_open(ns, path, oflags, write, &m);
    uint32_t rep = 0;
    if (!rc) {
        if (m.type == EOS_WASI__FS_DIR)
            flags |= d->flags & DF_MUTATE_DIR;
        else
            flags &= ~(uint32_t)DF_MUTATE_DIR;
        rep = desc_add(ctx, path, m.type, flags);
    }
    free_path(path);
    if (rc)
        return fs_err(ctx, &results[0], rc);
    return eos_wasi__ok_handle(ctx, &results[0], rep);
}

static int d_readlink_at(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    AT_BEGIN(&args[1], false);
    char *target = NULL;
    if (!rc)
        rc = eos_wasi__fs_readlink(ns, path, &target);
    free_path(path);
    if (rc)
        return fs_err(ctx, &results[0], rc);
    eos_cm_val *v = eos_wasi__val_new(ctx, 1);
    bool ok = v && eos_wasi__val_str(ctx, v, target, strlen(target));
    free_path(target);
    return ok ? eos_wasi__ok(&results[0], v) : EOS_ENOMEM;
}

static int d_symlink_at(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    AT_BEGIN(&args[2], false);
    const char *target = args[1].of.str.ptr;
    size_t tl = args[1].of.str.len;
    if (!rc && !(d->flags & DF_MUTATE_DIR))
        rc = EOS_WASI__FS_RDONLY;
    /* A target is kept as text and resolved when used; one that could only
     * ever leave the directory (absolute) is refused now, as a
     * capability-based host does. */
    if (!rc && tl && target[0] == '/')
        rc = EOS_WASI__FS_PERM;
    if (!rc && memchr(target, 0, tl))
        rc = EOS_WASI__FS_INVAL;
    eos_wasi__fsmeta m;
    if (!rc && slash) /* "name/": an existing entry, else no directory to link */
        rc = eos_wasi__fs_stat(ns, path, &m) == 0 ? EOS_WASI__FS_EXIST : EOS_WASI__FS_NOENT;
    if (!rc)
        rc = eos_wasi__fs_symlink(ns, path, target, tl);
    free_path(path);
    return rc ? fs_err(ctx, &results[0], rc) : eos_wasi__ok(&results[0], NULL);
}

static int d_remove_directory_at(eos_cm_call *call, void *ud, const eos_cm_val *args,
                                 eos_cm_val *results)
{
    AT_BEGIN(&args[1], false);
    if (!rc && !(d->flags & DF_MUTATE_DIR))
        rc = EOS_WASI__FS_RDONLY;
    if (!rc)
        rc = eos_wasi__fs_remove(ns, path, true);
    free_path(path);
    return rc ? fs_err(ctx, &results[0], rc) : eos_wasi__ok(&results[0], NULL);
}

static int d_unlink_file_at(eos_cm_call *call, void *ud, const eos_cm_val *args,
                            eos_cm_val *results)
{
    AT_BEGIN(&args[1], false);
    if (!rc && !(d->flags & DF_MUTATE_DIR))
        rc = EOS_WASI__FS_RDONLY;
    if (!rc)
        rc = slash_check(ns, path, slash); /* "file/" is no directory to unlink */
    if (!rc)
        rc = eos_wasi__fs_remove(ns, path, false);
    free_path(path);
    return rc ? fs_err(ctx, &results[0], rc) : eos_wasi__ok(&results[0], NULL);
}

static int d_rename_at(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    AT_BEGIN(&args[1], false);
    fdesc *nd = eos_wasi__res_get(ctx, args[2].of.handle, EOS_WASI__R_FS_DESC);
    if (!nd) {
        free_path(path);
        return EOS_TRAP_HOST;
    }
    char *to = NULL;
    bool to_slash = false;
    if (!rc && (!(d->flags & DF_MUTATE_DIR) || !(nd->flags & DF_MUTATE_DIR)))
        rc = EOS_WASI__FS_RDONLY;
    if (!rc)
        rc = resolve(ns, nd, &args[3], false, &to, &to_slash);
    if (!rc)
        rc = slash_check(ns, path, slash || to_slash);
    if (!rc)
        rc = eos_wasi__fs_rename(ns, path, to);
    free_path(path);
    free_path(to);
    return rc ? fs_err(ctx, &results[0], rc) : eos_wasi__ok(&results[0], NULL);
}

static int d_unsupported(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    /* link-at: the store keeps no hard links (one name per file). */
    EOS_WASI__SELF(ctx, fdesc, d, EOS_WASI__R_FS_DESC);
    return fs_err(ctx, &results[0], EOS_WASI__FS_NOTSUP);
}

static int d_is_same(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, fdesc, a, EOS_WASI__R_FS_DESC);
    EOS_WASI__ARG(ctx, fdesc, b, args[1], EOS_WASI__R_FS_DESC);
    results[0].of.b = strcmp(a->path, b->path) == 0;
    return 0;
}

static int hash_value(eos_wasi__ctx *ctx, const char *path, eos_cm_val *res)
{
    const eos_wasi__ns *ns = NULL;
    eos_wasi__fsmeta m;
    int rc = fs_ns(ctx, &ns);
    if (!rc)
        rc = eos_wasi__fs_stat(ns, path, &m);
    if (rc)
        return fs_err(ctx, res, rc);
    /* FNV-1a over the path (identity) and mtime (changes), two lanes. */
    uint64_t h1 = 0xcbf29ce484222325ull, h2 = 0x84222325cbf29ce4ull;
    for (const char *p = path; *p; p++) {
        h1 = (h1 ^ (uint8_t)*p) * 0x100000001b3ull;
        h2 = (h2 ^ (uint8_t)*p) * 0x100000001b3ull + 7;
    }
    h2 ^= m.mtime_ns;
    eos_cm_val *v = eos_wasi__val_new(ctx, 3);
    if (!v)
        return EOS_ENOMEM;
    v[0].of.list.items = &v[1];
    v[0].of.list.len = 2;
    v[1].of.u = h1;
    v[2].of.u = h2;
    return eos_wasi__ok(res, &v[0]);
}

static int d_metadata_hash(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, fdesc, d, EOS_WASI__R_FS_DESC);
    return hash_value(ctx, d->path, &results[0]);
}

static int d_metadata_hash_at(eos_cm_call *call, void *ud, const eos_cm_val *args,
                              eos_cm_val *results)
{
    AT_BEGIN(&args[2], follows(&args[1]));
    if (rc) {
        free_path(path);
        return fs_err(ctx, &results[0], rc);
    }
    rc = hash_value(ctx, path, &results[0]);
    free_path(path);
    return rc;
}

static int fs_error_code(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    eos_wasi__ioerr *e = eos_wasi__res_get(ctx, args[0].of.handle, EOS_WASI__R_ERROR);
    eos_cm_val *p = eos_wasi__val_new(ctx, 1);
    if (!p)
        return EOS_ENOMEM;
    results[0].of.var.index = 0;
    if (e) {
        results[0].of.var.index = 1;
        results[0].of.var.payload = p;
        p->of.var.index = e->code == EOS_ENOMEM ? 22 : EOS_WASI__FS_IO - 1;
    }
    return 0;
}

static int get_directories(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    eos_cm_val *v = eos_wasi__val_new(ctx, 3);
    if (!v)
        return EOS_ENOMEM;
    if (!ctx->app->store.ops || ctx->no_preopen) {
        results[0].of.list.items = v; /* no store (or asked for none): no preopens */
        results[0].of.list.len = 0;
        return 0;
    }
    uint32_t rep = desc_add(ctx, "/", EOS_WASI__FS_DIR, DF_READ | DF_MUTATE_DIR);
    if (!rep)
        return EOS_ENOMEM;
    v[0].of.list.items = &v[1];
    v[0].of.list.len = 2;
    v[1].of.handle = rep;
    v[2].of.str.ptr = "/";
    v[2].of.str.len = 1;
    results[0].of.list.items = &v[0];
    results[0].of.list.len = 1;
    return 0;
}

static const char fs_types[] =
    "resource input-stream;\nresource output-stream;\nresource error;\n"
    "record datetime { seconds: u64, nanoseconds: u32 }\n"
    "type filesize = u64;\n"
    "enum descriptor-type { unknown, block-device, character-device, directory, fifo, "
    "symbolic-link, regular-file, socket }\n"
    "flags descriptor-flags { read, write, file-integrity-sync, data-integrity-sync, "
    "requested-write-sync, mutate-directory }\n"
    "type link-count = u64;\n"
    "record descriptor-stat { %type: descriptor-type, link-count: link-count, size: filesize, "
    "data-access-timestamp: option<datetime>, data-modification-timestamp: option<datetime>, "
    "status-change-timestamp: option<datetime> }\n"
    "flags path-flags { symlink-follow }\n"
    "flags open-flags { create, directory, exclusive, truncate }\n"
    "variant new-timestamp { no-change, now, timestamp(datetime) }\n"
    "record directory-entry { %type: descriptor-type, name: string }\n"
    "enum error-code { access, would-block, already, bad-descriptor, busy, deadlock, quota, "
    "exist, file-too-large, illegal-byte-sequence, in-progress, interrupted, invalid, io, "
    "is-directory, loop, too-many-links, message-size, name-too-long, no-device, no-entry, "
    "no-lock, insufficient-memory, insufficient-space, not-directory, not-empty, "
    "not-recoverable, unsupported, no-tty, no-such-device, overflow, not-permitted, pipe, "
    "read-only, invalid-seek, text-file-busy, cross-device }\n"
    "enum advice { normal, sequential, random, will-need, dont-need, no-reuse }\n"
    "record metadata-hash-value { lower: u64, upper: u64 }\n"
    "resource descriptor;\nresource directory-entry-stream;\n";

#define S    "self: borrow<descriptor>"
#define R(t) "result<" t ", error-code>"
static const eos_cm_host_func fs_funcs[] = {
    {"[method]descriptor.read-via-stream", "func(" S ", offset: filesize) -> " R("input-stream"),
     d_read_via_stream},
    {"[method]descriptor.write-via-stream", "func(" S ", offset: filesize) -> " R("output-stream"),
     d_write_via_stream},
    {"[method]descriptor.append-via-stream", "func(" S ") -> " R("output-stream"),
     d_append_via_stream},
    {"[method]descriptor.advise",
     "func(" S ", offset: filesize, length: filesize, advice: advice) -> " R("_"), d_ok},
    {"[method]descriptor.sync-data", "func(" S ") -> " R("_"), d_ok},
    {"[method]descriptor.get-flags", "func(" S ") -> " R("descriptor-flags"), d_get_flags},
    {"[method]descriptor.get-type", "func(" S ") -> " R("descriptor-type"), d_get_type},
    {"[method]descriptor.set-size", "func(" S ", size: filesize) -> " R("_"), d_set_size},
    {"[method]descriptor.set-times",
     "func(" S ", data-access-timestamp: new-timestamp, data-modification-timestamp: "
     "new-timestamp) -> " R("_"),
     d_set_times},
    {"[method]descriptor.read",
     "func(" S ", length: filesize, offset: filesize) -> " R("tuple<list<u8>, bool>"), d_read},
    {"[method]descriptor.write",
     "func(" S ", buffer: list<u8>, offset: filesize) -> " R("filesize"), d_write},
    {"[method]descriptor.read-directory", "func(" S ") -> " R("directory-entry-stream"),
     d_read_directory},
    {"[method]descriptor.sync", "func(" S ") -> " R("_"), d_ok},
    {"[method]descriptor.create-directory-at", "func(" S ", path: string) -> " R("_"),
     d_create_directory_at},
    {"[method]descriptor.stat", "func(" S ") -> " R("descriptor-stat"), d_stat},
    {"[method]descriptor.stat-at",
     "func(" S ", path-flags: path-flags, path: string) -> " R("descriptor-stat"), d_stat_at},
    {"[method]descriptor.set-times-at",
     "func(" S ", path-flags: path-flags, path: string, data-access-timestamp: new-timestamp, "
     "data-modification-timestamp: new-timestamp) -> " R("_"),
     d_set_times_at},
    {"[method]descriptor.link-at",
     "func(" S ", old-path-flags: path-flags, old-path: string, new-descriptor: "
     "borrow<descriptor>, new-path: string) -> " R("_"),
     d_unsupported},
    {"[method]descriptor.open-at",
     "func(" S ", path-flags: path-flags, path: string, open-flags: open-flags, %flags: "
     "descriptor-flags) -> " R("descriptor"),
     d_open_at},
    {"[method]descriptor.readlink-at", "func(" S ", path: string) -> " R("string"), d_readlink_at},
    {"[method]descriptor.remove-directory-at", "func(" S ", path: string) -> " R("_"),
     d_remove_directory_at},
    {"[method]descriptor.rename-at",
     "func(" S
     ", old-path: string, new-descriptor: borrow<descriptor>, new-path: string) -> " R("_"),
     d_rename_at},
    {"[method]descriptor.symlink-at", "func(" S ", old-path: string, new-path: string) -> " R("_"),
     d_symlink_at},
    {"[method]descriptor.unlink-file-at", "func(" S ", path: string) -> " R("_"), d_unlink_file_at},
    {"[method]descriptor.is-same-object", "func(" S ", other: borrow<descriptor>) -> bool",
     d_is_same},
    {"[method]descriptor.metadata-hash", "func(" S ") -> " R("metadata-hash-value"),
     d_metadata_hash},
    {"[method]descriptor.metadata-hash-at",
     "func(" S ", path-flags: path-flags, path: string) -> " R("metadata-hash-value"),
     d_metadata_hash_at},
    {"[method]directory-entry-stream.read-directory-entry",
     "func(self: borrow<directory-entry-stream>) -> " R("option<directory-entry>"), dir_next},
    {"filesystem-error-code", "func(err: borrow<error>) -> option<error-code>", fs_error_code},
};
#undef S
#undef R

static const eos_cm_host_func preopen_funcs[] = {
    {"get-directories", "func() -> list<tuple<descriptor, string>>", get_directories},
};

const eos_wasi__iface eos_wasi__fs_ifaces[] = {
    EOS_WASI__IFACE("wasi:filesystem/types", fs_types, fs_funcs),
    EOS_WASI__IFACE("wasi:filesystem/preopens", "resource descriptor;", preopen_funcs),
};
const size_t eos_wasi__fs_iface_count = EOS_ARRAY_LEN(eos_wasi__fs_ifaces);
