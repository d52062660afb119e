/* Host interfaces: tables of C functions with WIT signatures, grouped by
 * interface name, and the semver rules by which a component's imports find
 * them (same major version; for 0.x the same minor; pre-releases exactly). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int eos_cm_host_new(eos_cm_host **out)
{
    *out = eos_calloc(1, sizeof(eos_cm_host));
    return *out ? 0 : EOS_ENOMEM;
}

static void iface_free(eos_cm__hiface *f)
{
    for (uint32_t i = 0; i < f->resource_count; i++)
        eos_free(f->resources[i], sizeof(eos_cm_resource));
    eos_free(f->resources, f->resource_count * sizeof(*f->resources));
    eos_free(f->funcs, f->func_count * sizeof(*f->funcs));
    eos_cm_types_free(f->types);
}

void eos_cm_host_free(eos_cm_host *h)
{
    if (!h)
        return;
    for (uint32_t i = 0; i < h->count; i++)
        iface_free(&h->ifaces[i]);
    eos_free(h->ifaces, h->cap * sizeof(*h->ifaces));
    eos_free(h, sizeof(*h));
}

typedef struct use_cx {
    const eos_cm_host *h;
    const char *self; /* the interface being defined */
} use_cx;

/* Resolves `use` paths: "types" is relative to the defining interface's
 * package (and version); "wasi:io/poll@0.2.0" is absolute. Only interfaces
 * defined earlier are visible. */
static const eos_cm__named *resolve_use(void *ud, const char *path, const char *name)
{
    use_cx *u = ud;
    char full[512];
    if (!strchr(path, ':')) {
        const char *slash = strchr(u->self, '/');
        const char *at = strchr(u->self, '@');
        if (!slash)
            return NULL;
        snprintf(full, sizeof(full), "%.*s/%s%s", (int)(slash - u->self), u->self, path,
                 at ? at : "");
        path = full;
    }
    const eos_cm__hiface *f = eos_cm__host_find(u->h, path);
    return f ? eos_cm__types_lookup(f->types, name) : NULL;
}

static int define(eos_cm_host *h, const char *name, bool is_func, const char *types,
                  const eos_cm_host_func *funcs, size_t count, eos_cm_dtor_fn dtor, void *ud,
                  eos_diag *diag)
{
    eos_cm__hiface f = {.is_func = is_func};
    int rc;
    if (!name || (count && !funcs))
        return EOS_EINVAL;
    if (h->count == h->cap) {
        uint32_t n = h->cap ? h->cap * 2 : 16;
        eos_cm__hiface *v = eos_realloc(h->ifaces, h->cap * sizeof(*v), n * sizeof(*v));
        if (!v)
            return EOS_ENOMEM;
        h->ifaces = v;
        h->cap = n;
    }
    if ((rc = eos_cm_types_new(&f.types)))
        return rc;
    f.name = eos_cm__arena_strndup(f.types->arena, name, strlen(name));
    if (!f.name) {
        rc = EOS_ENOMEM;
        goto out;
    }
    use_cx u = {.h = h, .self = name};
    if (types &&
        (rc = eos_cm__types_declare(f.types, types, resolve_use, &u, is_func ? NULL : name, diag)))
        goto out;
    /* Every resource declared by the interface gets a run-time type. */
    for (uint32_t i = 0; i < f.types->name_count; i++)
        if (f.types->names[i].rdesc)
            f.resource_count++;
    f.resources = eos_calloc(f.resource_count ? f.resource_count : 1, sizeof(*f.resources));
    f.funcs = eos_calloc(count ? count : 1, sizeof(*f.funcs));
    if (!f.resources || !f.funcs) {
        rc = EOS_ENOMEM;
        goto out;
    }
    for (uint32_t i = 0, k = 0; i < f.types->name_count; i++) {
        const eos_cm__rdesc *d = f.types->names[i].rdesc;
        if (!d)
            continue;
        eos_cm_resource *r = eos_calloc(1, sizeof(*r));
        if (!r) {
            f.resource_count = k;
            rc = EOS_ENOMEM;
            goto out;
        }
        r->name = d->name;
        r->host_dtor = dtor;
        r->host_ud = ud;
        f.resources[k++] = r;
    }
    f.func_count = (uint32_t)count;
    for (size_t i = 0; i < count; i++) {
        eos_cm__hfunc *hf = &f.funcs[i];
        hf->name = eos_cm__arena_strndup(f.types->arena, funcs[i].name, strlen(funcs[i].name));
        hf->fn = funcs[i].fn;
        hf->ud = ud;
        if (!hf->name) {
            rc = EOS_ENOMEM;
            goto out;
        }
        /* Without a signature in the table, the WIT text's declaration of
         * that name is the signature. */
        if (!funcs[i].sig)
            hf->type = eos_cm__types_func(f.types, funcs[i].name);
        if (funcs[i].sig &&
            (rc = eos_cm_types_parse_func(f.types, funcs[i].sig, &hf->type, diag))) {
            if (diag && diag->message[0]) {
                /* Prefix the message with the function it is about. */
                char tmp[sizeof(diag->message)];
                int k = snprintf(tmp, sizeof(tmp), "%.100s.%.100s: ", name, funcs[i].name);
                if (k > 0 && (size_t)k < sizeof(tmp)) {
                    size_t room = sizeof(tmp) - (size_t)k - 1;
                    size_t n = strlen(diag->message);
                    memcpy(tmp + k, diag->message, n < room ? n : room);
                    tmp[(size_t)k + (n < room ? n : room)] = 0;
                    memcpy(diag->message, tmp, sizeof(tmp));
                }
            }
            goto out;
        }
    }
    h->ifaces[h->count++] = f;
    return 0;
out:
    iface_free(&f);
    return rc;
}

int eos_cm_host_define(eos_cm_host *h, const char *name, const char *types,
                       const eos_cm_host_func *funcs, size_t count, eos_cm_dtor_fn dtor, void *ud,
                       eos_diag *diag)
{
    return define(h, name, false, types, funcs, count, dtor, ud, diag);
}

int eos_cm_host_define_func(eos_cm_host *h, const char *name, const char *types,
                            const eos_cm_host_func *func, void *ud, eos_diag *diag)
{
    return define(h, name, true, types, func, 1, NULL, ud, diag);
}

/* Splits "ns:pkg/iface@1.2.3-pre" into the unversioned part and version. */
static size_t base_len(const char *s)
{
    const char *at = strchr(s, '@');
    return at ? (size_t)(at - s) : strlen(s);
}

typedef struct semver {
    unsigned long major, minor, patch;
    const char *pre; /* "" when none */
    bool ok;
} semver;

static semver parse_ver(const char *v)
{
    semver s = {.pre = ""};
    char *e;
    s.major = strtoul(v, &e, 10);
    if (*e != '.')
        return s;
    s.minor = strtoul(e + 1, &e, 10);
    if (*e != '.')
        return s;
    s.patch = strtoul(e + 1, &e, 10);
    if (*e == '-')
        s.pre = e;
    else if (*e && *e != '+')
        return s;
    s.ok = true;
    return s;
}

bool eos_cm__name_compatible(const char *want, const char *have)
{
    if (strcmp(want, have) == 0)
        return true;
    size_t bw = base_len(want), bh = base_len(have);
    if (bw != bh || strncmp(want, have, bw) != 0 || !want[bw] || !have[bh])
        return false;
    semver a = parse_ver(want + bw + 1), b = parse_ver(have + bh + 1);
    if (!a.ok || !b.ok || a.major != b.major)
        return false;
    if (*a.pre || *b.pre)
        return false; /* pre-releases link only to the exact version */
    if (a.major == 0 && a.minor != b.minor)
        return false;
    if (a.major == 0 && a.minor == 0 && a.patch != b.patch)
        return false;
    return true;
}

const eos_cm__hiface *eos_cm__host_find(const eos_cm_host *h, const char *name)
{
    const eos_cm__hiface *best = NULL;
    if (!h)
        return NULL;
    for (uint32_t i = 0; i < h->count; i++) {
        if (strcmp(h->ifaces[i].name, name) == 0)
            return &h->ifaces[i];
        if (!best && eos_cm__name_compatible(name, h->ifaces[i].name))
            best = &h->ifaces[i];
    }
    return best;
}
