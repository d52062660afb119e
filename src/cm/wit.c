/* A small WIT reader and writer: host interfaces declare their types and
 * function signatures as WIT text (records, variants, enums, flags,
 * resources, aliases; type expressions; func signatures), and component
 * types print back as WIT for inspection. */
#include <ctype.h>
#include <string.h>

#include "internal.h"

typedef struct wp {
    const char *s, *p;
    eos_cm_types *ts;
    eos_diag *diag;
    int depth;
    struct decls *decls;
} wp;

static int need_decl(wp *w, const char *name);

static int perr(wp *w, const char *what)
{
    return eos_diag_set(w->diag, EOS_EINVALID, "WIT", w->p - w->s, "WIT text: %s near \"%.20s\"",
                        what, w->p);
}

static void skip_ws(wp *w)
{
    for (;;) {
        while (*w->p && isspace((unsigned char)*w->p))
            w->p++;
        if (w->p[0] == '/' && w->p[1] == '/') {
            while (*w->p && *w->p != '\n')
                w->p++;
        } else if (w->p[0] == '/' && w->p[1] == '*') {
            const char *e = strstr(w->p + 2, "*/");
            w->p = e ? e + 2 : w->p + strlen(w->p);
        } else {
            return;
        }
    }
}

static bool accept(wp *w, const char *tok)
{
    skip_ws(w);
    size_t n = strlen(tok);
    if (strncmp(w->p, tok, n) != 0)
        return false;
    if (isalnum((unsigned char)tok[n - 1]) && (isalnum((unsigned char)w->p[n]) || w->p[n] == '-'))
        return false;
    w->p += n;
    return true;
}

static int ident(wp *w, const char **out)
{
    skip_ws(w);
    if (*w->p == '%')
        w->p++;
    const char *b = w->p;
    while (isalnum((unsigned char)*w->p) || *w->p == '-' || *w->p == '_')
        w->p++;
    if (w->p == b)
        return perr(w, "expected a name");
    *out = eos_cm__arena_strndup(w->ts->arena, b, (size_t)(w->p - b));
    return *out ? 0 : EOS_ENOMEM;
}

static const eos_cm__named *lookup(const eos_cm_types *ts, const char *name)
{
    for (uint32_t i = ts->name_count; i-- > 0;)
        if (strcmp(ts->names[i].name, name) == 0)
            return &ts->names[i];
    return NULL;
}

const eos_cm__rdesc *eos_cm__types_rdesc(const eos_cm_types *ts, const char *name)
{
    const eos_cm__named *n = lookup(ts, name);
    return n ? n->rdesc : NULL;
}

static int add_name(wp *w, eos_cm__named n)
{
    eos_cm_types *ts = w->ts;
    if (ts->name_count == ts->name_cap) {
        uint32_t c = ts->name_cap ? ts->name_cap * 2 : 16;
        eos_cm__named *v = eos_realloc(ts->names, ts->name_cap * sizeof(*v), c * sizeof(*v));
        if (!v)
            return EOS_ENOMEM;
        ts->names = v;
        ts->name_cap = c;
    }
    ts->names[ts->name_count++] = n;
    return 0;
}

static const struct {
    const char *name;
    eos_cm_kind kind;
} prim_names[] = {{"bool", EOS_CM_BOOL},   {"s8", EOS_CM_S8},     {"u8", EOS_CM_U8},
                  {"s16", EOS_CM_S16},     {"u16", EOS_CM_U16},   {"s32", EOS_CM_S32},
                  {"u32", EOS_CM_U32},     {"s64", EOS_CM_S64},   {"u64", EOS_CM_U64},
                  {"f32", EOS_CM_F32},     {"f64", EOS_CM_F64},   {"float32", EOS_CM_F32},
                  {"float64", EOS_CM_F64}, {"char", EOS_CM_CHAR}, {"string", EOS_CM_STRING}};

static int type_expr(wp *w, const eos_cm_type **out);

static int type_args(wp *w, uint32_t max, const eos_cm_type **v, uint32_t *n, bool allow_blank)
{
    *n = 0;
    if (!accept(w, "<"))
        return perr(w, "expected '<'");
    do {
        if (*n >= max)
            return perr(w, "too many type arguments");
        int rc;
        if (allow_blank && accept(w, "_"))
            v[(*n)++] = NULL;
        else if ((rc = type_expr(w, &v[(*n)++])))
            return rc;
    } while (accept(w, ","));
    if (!accept(w, ">"))
        return perr(w, "expected '>'");
    return 0;
}

static int type_expr(wp *w, const eos_cm_type **out)
{
    int rc;
    if (++w->depth > EOS_CM_MAX_DEPTH)
        return perr(w, "type nested too deeply");
    skip_ws(w);
    const char *nm;
    const char *save = w->p;
    if ((rc = ident(w, &nm)))
        return rc;
    for (size_t i = 0; i < EOS_ARRAY_LEN(prim_names); i++)
        if (strcmp(nm, prim_names[i].name) == 0) {
            *out = eos_cm_prim(prim_names[i].kind);
            w->depth--;
            return 0;
        }
    eos_cm_arena *a = w->ts->arena;
    eos_cm_type *t = NULL;
    const eos_cm_type *args[64];
    uint32_t n;
    if (strcmp(nm, "list") == 0 || strcmp(nm, "option") == 0) {
        if ((rc = type_args(w, 1, args, &n, false)))
            return rc;
        t = eos_cm__type_new(a, nm[0] == 'l' ? EOS_CM_LIST : EOS_CM_OPTION);
        if (!t)
            return EOS_ENOMEM;
        t->elem = args[0];
        t->count = t->kind == EOS_CM_OPTION ? 2 : 0;
    } else if (strcmp(nm, "result") == 0) {
        t = eos_cm__type_new(a, EOS_CM_RESULT);
        if (!t)
            return EOS_ENOMEM;
        t->count = 2;
        skip_ws(w);
        if (*w->p == '<') {
            if ((rc = type_args(w, 2, args, &n, true)))
                return rc;
            t->elem = args[0];
            t->err = n > 1 ? args[1] : NULL;
        }
    } else if (strcmp(nm, "tuple") == 0) {
        if ((rc = type_args(w, 64, args, &n, false)))
            return rc;
        t = eos_cm__type_new(a, EOS_CM_TUPLE);
        const eos_cm_type **v = eos_cm_arena_alloc(a, n * sizeof(void *));
        if (!t || !v)
            return EOS_ENOMEM;
        memcpy(v, args, n * sizeof(void *));
        t->types = v;
        t->count = n;
    } else if (strcmp(nm, "own") == 0 || strcmp(nm, "borrow") == 0) {
        const char *r;
        if (!accept(w, "<") || (rc = ident(w, &r)) || !accept(w, ">"))
            return rc ? rc : perr(w, "expected own<name> or borrow<name>");
        const eos_cm__named *d = lookup(w->ts, r);
        if (!d || !d->rdesc)
            return perr(w, "own/borrow of an unknown resource");
        t = eos_cm__type_new(a, nm[0] == 'o' ? EOS_CM_OWN : EOS_CM_BORROW);
        if (!t)
            return EOS_ENOMEM;
        t->rdesc = d->rdesc;
        t->rname = d->rdesc->name;
    } else {
        const eos_cm__named *d = lookup(w->ts, nm);
        if (!d) {
            int nrc = need_decl(w, nm);
            if (nrc && nrc != EOS_ENOTFOUND)
                return nrc;
            d = lookup(w->ts, nm);
        }
        if (!d) {
            w->p = save;
            return perr(w, "unknown type name");
        }
        if (d->rdesc) {
            t = eos_cm__type_new(a, EOS_CM_OWN);
            if (!t)
                return EOS_ENOMEM;
            t->rdesc = d->rdesc;
            t->rname = d->rdesc->name;
        } else {
            *out = d->type;
            w->depth--;
            return 0;
        }
    }
    eos_cm__type_layout(t);
    *out = t;
    w->depth--;
    return 0;
}

/* `{ a, b(type), ... }` or `{ a: type, ... }` bodies. */
static int body(wp *w, eos_cm_type *t, bool typed, bool payload)
{
    const char *names[1024];
    const eos_cm_type *types[1024];
    uint32_t n = 0;
    int rc;
    if (!accept(w, "{"))
        return perr(w, "expected '{'");
    while (!accept(w, "}")) {
        if (n >= 1024)
            return perr(w, "too many members");
        if ((rc = ident(w, &names[n])))
            return rc;
        types[n] = NULL;
        if (typed) {
            if (!accept(w, ":"))
                return perr(w, "expected ':'");
            if ((rc = type_expr(w, &types[n])))
                return rc;
        } else if (payload && accept(w, "(")) {
            if ((rc = type_expr(w, &types[n])))
                return rc;
            if (!accept(w, ")"))
                return perr(w, "expected ')'");
        }
        n++;
        if (!accept(w, ",")) {
            if (!accept(w, "}"))
                return perr(w, "expected ',' or '}'");
            break;
        }
    }
    if (n == 0)
        return perr(w, "empty type body");
    const char **nv = eos_cm_arena_alloc(w->ts->arena, n * sizeof(char *));
    const eos_cm_type **tv = eos_cm_arena_alloc(w->ts->arena, n * sizeof(void *));
    if (!nv || !tv)
        return EOS_ENOMEM;
    memcpy(nv, names, n * sizeof(char *));
    memcpy(tv, types, n * sizeof(void *));
    t->names = nv;
    t->count = n;
    if (typed || payload)
        t->types = tv;
    return 0;
}

static void skip_block(wp *w)
{
    int level = 0;
    while (*w->p) {
        char c = *w->p++;
        if (c == '{')
            level++;
        else if (c == '}' && --level <= 0)
            return;
    }
}

int eos_cm_types_new(eos_cm_types **out)
{
    eos_cm_types *ts = eos_calloc(1, sizeof(*ts));
    if (!ts || !(ts->arena = eos_cm_arena_new())) {
        eos_free(ts, sizeof(*ts));
        return EOS_ENOMEM;
    }
    *out = ts;
    return 0;
}

void eos_cm_types_free(eos_cm_types *ts)
{
    if (!ts)
        return;
    eos_cm_arena_free(ts->arena);
    eos_free(ts->names, ts->name_cap * sizeof(*ts->names));
    eos_free(ts->funcs, ts->func_cap * sizeof(*ts->funcs));
    eos_free(ts, sizeof(*ts));
}

/* `use path.{a, b as c};`: with a resolver the names are looked up in
 * another type set (a host interface defined earlier); without one the
 * statement is skipped. */
static int use_stmt(wp *w, eos_cm__use_fn resolve, void *ud)
{
    skip_ws(w);
    const char *b = w->p;
    while (*w->p && *w->p != '{' && *w->p != ';')
        w->p++;
    if (!resolve || *w->p != '{') {
        while (*w->p && *w->p != ';')
            w->p++;
        if (*w->p)
            w->p++;
        return 0;
    }
    size_t plen = (size_t)(w->p - b);
    if (plen && b[plen - 1] == '.')
        plen--;
    char path[256];
    if (plen >= sizeof(path))
        return perr(w, "interface path too long");
    memcpy(path, b, plen);
    path[plen] = 0;
    w->p++;
    int rc;
    do {
        const char *nm, *as;
        if ((rc = ident(w, &nm)))
            return rc;
        as = nm;
        if (accept(w, "as") && (rc = ident(w, &as)))
            return rc;
        const eos_cm__named *src = resolve(ud, path, nm);
        if (!src)
            return perr(w, "`use` of a name the interface does not define");
        eos_cm__named n = *src;
        n.name = as;
        if ((rc = add_name(w, n)))
            return rc;
    } while (accept(w, ","));
    if (!accept(w, "}") || !accept(w, ";"))
        return perr(w, "expected `};` after the used names");
    return 0;
}

const eos_cm__named *eos_cm__types_lookup(const eos_cm_types *ts, const char *name)
{
    return lookup(ts, name);
}

int eos_cm_types_declare(eos_cm_types *ts, const char *wit, eos_diag *diag)
{
    return eos_cm__types_declare(ts, wit, NULL, NULL, NULL, diag);
}

/* WIT is order independent inside an interface: a first pass notes every
 * declaration (resources are created at once), a second parses type bodies,
 * resolving names declared later on demand, then function declarations. */
typedef struct decl {
    const char *name;
    const char *at; /* the declaration's keyword */
    uint8_t state;  /* 0 pending, 1 being parsed, 2 done */
} decl;

typedef struct decls {
    decl *v;
    uint32_t len, cap;
    const char *funcs[1024]; /* positions of function declarations */
    const char *res_blocks[256];
    const char *res_names[256];
    uint32_t nfuncs, nres;
} decls;

static int parse_decl(wp *w, decl *d);

static int need_decl(wp *w, const char *name)
{
    decls *ds = w->decls;
    for (uint32_t i = 0; ds && i < ds->len; i++)
        if (strcmp(ds->v[i].name, name) == 0) {
            if (ds->v[i].state == 1)
                return perr(w, "type refers to itself");
            if (ds->v[i].state == 0) {
                const char *save = w->p;
                int rc = parse_decl(w, &ds->v[i]);
                w->p = save;
                return rc;
            }
            return 0;
        }
    return EOS_ENOTFOUND;
}

static int parse_decl(wp *w, decl *d)
{
    const char *nm;
    eos_cm_type *t = NULL;
    int rc;
    eos_cm_types *ts = w->ts;
    d->state = 1;
    w->p = d->at;
    if (accept(w, "record") || accept(w, "variant") || accept(w, "enum") || accept(w, "flags")) {
        char k = w->p[-1]; /* d, t, m, s: last letter of the keyword */
        uint8_t kind = k == 'd'   ? EOS_CM_RECORD
                       : k == 't' ? EOS_CM_VARIANT
                       : k == 'm' ? EOS_CM_ENUM
                                  : EOS_CM_FLAGS;
        if ((rc = ident(w, &nm)) || !(t = eos_cm__type_new(ts->arena, kind)))
            return rc ? rc : EOS_ENOMEM;
        if ((rc = body(w, t, kind == EOS_CM_RECORD, kind == EOS_CM_VARIANT)))
            return rc;
        t->name = nm;
        eos_cm__type_layout(t);
    } else if (accept(w, "type")) {
        const eos_cm_type *target;
        if ((rc = ident(w, &nm)) || !accept(w, "=") || (rc = type_expr(w, &target)) ||
            !accept(w, ";"))
            return rc ? rc : perr(w, "expected `type name = type;`");
        if (!(t = eos_cm__type_new(ts->arena, target->kind)))
            return EOS_ENOMEM;
        *t = *target;
        t->name = nm;
    } else {
        return perr(w, "expected a type declaration");
    }
    d->state = 2;
    return add_name(w, (eos_cm__named){.name = d->name, .type = t});
}

static void skip_annotations(wp *w)
{
    for (;;) {
        skip_ws(w);
        if (*w->p != '@')
            return;
        w->p++;
        while (isalnum((unsigned char)*w->p) || *w->p == '-' || *w->p == '_')
            w->p++;
        skip_ws(w);
        if (*w->p == '(') {
            int level = 0;
            while (*w->p) {
                char c = *w->p++;
                if (c == '(')
                    level++;
                else if (c == ')' && --level == 0)
                    break;
            }
        }
    }
}

static void skip_stmt(wp *w)
{
    while (*w->p && *w->p != ';' && *w->p != '{' && *w->p != '}')
        w->p++;
    if (*w->p == '{')
        skip_block(w);
    else if (*w->p == ';')
        w->p++;
}

/* Pass one over the items of an interface body (or bare declarations). */
static int scan_items(wp *w, decls *ds, uint32_t *next_rdesc, eos_cm__use_fn resolve, void *ud)
{
    int rc;
    for (;;) {
        skip_annotations(w);
        if (!*w->p || *w->p == '}')
            return 0;
        const char *at = w->p;
        const char *nm;
        if (accept(w, "record") || accept(w, "variant") || accept(w, "enum") ||
            accept(w, "flags") || accept(w, "type")) {
            if ((rc = ident(w, &nm)))
                return rc;
            if (ds->len == ds->cap) {
                uint32_t n = ds->cap ? ds->cap * 2 : 32;
                decl *v = eos_realloc(ds->v, ds->cap * sizeof(*v), n * sizeof(*v));
                if (!v)
                    return EOS_ENOMEM;
                ds->v = v;
                ds->cap = n;
            }
            ds->v[ds->len++] = (decl){.name = nm, .at = at};
            skip_stmt(w);
        } else if (accept(w, "resource")) {
            if ((rc = ident(w, &nm)))
                return rc;
            eos_cm__rdesc *d = eos_cm_arena_alloc(w->ts->arena, sizeof(*d));
            if (!d)
                return EOS_ENOMEM;
            d->name = nm;
            d->id = (*next_rdesc)++;
            if ((rc = add_name(w, (eos_cm__named){.name = nm, .rdesc = d})))
                return rc;
            skip_ws(w);
            if (*w->p == '{') {
                if (ds->nres < EOS_ARRAY_LEN(ds->res_blocks)) {
                    ds->res_blocks[ds->nres] = w->p;
                    ds->res_names[ds->nres++] = nm;
                }
                skip_block(w);
            } else if (!accept(w, ";")) {
                return perr(w, "expected ';' after resource");
            }
        } else if (accept(w, "use")) {
            if ((rc = use_stmt(w, resolve, ud)))
                return rc;
        } else if (accept(w, "include") || accept(w, "import") || accept(w, "export")) {
            skip_stmt(w);
        } else {
            if ((rc = ident(w, &nm)) || !accept(w, ":"))
                return rc ? rc : perr(w, "expected a declaration");
            if (ds->nfuncs < EOS_ARRAY_LEN(ds->funcs))
                ds->funcs[ds->nfuncs++] = at;
            skip_stmt(w);
        }
    }
}

static int add_func(wp *w, const char *name, const eos_cm_functype *ft)
{
    eos_cm_types *ts = w->ts;
    if (ts->func_count == ts->func_cap) {
        uint32_t n = ts->func_cap ? ts->func_cap * 2 : 16;
        eos_cm__nfunc *v = eos_realloc(ts->funcs, ts->func_cap * sizeof(*v), n * sizeof(*v));
        if (!v)
            return EOS_ENOMEM;
        ts->funcs = v;
        ts->func_cap = n;
    }
    ts->funcs[ts->func_count++] = (eos_cm__nfunc){.name = name, .type = ft};
    return 0;
}

static int func_sig(wp *w, eos_cm_functype **out);

/* `name: func(...)`, `name: static func(...)`, `constructor(...)` inside a
 * resource block become "[method]r.name" (with self: borrow<r> first),
 * "[static]r.name" and "[constructor]r" (returning own<r>). */
static int resource_funcs(wp *w, const char *res)
{
    const eos_cm__named *rn = lookup(w->ts, res);
    eos_cm_arena *a = w->ts->arena;
    int rc;
    if (!accept(w, "{"))
        return perr(w, "expected '{'");
    for (;;) {
        skip_annotations(w);
        if (accept(w, "}"))
            return 0;
        if (!*w->p)
            return perr(w, "unterminated resource block");
        eos_cm_functype *ft;
        char buf[256];
        eos_cm_type *h;
        if (accept(w, "constructor")) {
            if ((rc = func_sig(w, &ft)))
                return rc;
            if (!(h = eos_cm__type_new(a, EOS_CM_OWN)))
                return EOS_ENOMEM;
            h->rdesc = rn->rdesc, h->rname = res;
            eos_cm__type_layout(h);
            const eos_cm_type **rt = eos_cm_arena_alloc(a, sizeof(void *));
            const char **rnm = eos_cm_arena_alloc(a, sizeof(char *));
            if (!rt || !rnm)
                return EOS_ENOMEM;
            rt[0] = h;
            ft->result_count = 1, ft->results = rt, ft->result_names = rnm;
            snprintf(buf, sizeof(buf), "[constructor]%s", res);
        } else {
            const char *fn;
            if ((rc = ident(w, &fn)) || !accept(w, ":"))
                return rc ? rc : perr(w, "expected a resource function");
            bool is_static = accept(w, "static");
            if ((rc = func_sig(w, &ft)))
                return rc;
            snprintf(buf, sizeof(buf), "[%s]%s.%s", is_static ? "static" : "method", res, fn);
            if (!is_static) {
                if (!(h = eos_cm__type_new(a, EOS_CM_BORROW)))
                    return EOS_ENOMEM;
                h->rdesc = rn->rdesc, h->rname = res;
                eos_cm__type_layout(h);
                uint32_t n = ft->param_count + 1;
                const eos_cm_type **pt = eos_cm_arena_alloc(a, n * sizeof(void *));
                const char **pn = eos_cm_arena_alloc(a, n * sizeof(char *));
                if (!pt || !pn)
                    return EOS_ENOMEM;
                pt[0] = h, pn[0] = "self";
                if (ft->param_count) {
                    memcpy(pt + 1, ft->params, ft->param_count * sizeof(void *));
                    memcpy(pn + 1, ft->param_names, ft->param_count * sizeof(char *));
                }
                ft->params = pt, ft->param_names = pn, ft->param_count = n;
            }
        }
        const char *full = eos_cm__arena_strndup(a, buf, strlen(buf));
        if (!full || (rc = add_func(w, full, ft)))
            return rc ? rc : EOS_ENOMEM;
    }
}

/* Finds `interface NAME {` at the top level; returns the body start or NULL. */
static const char *find_interface(wp *w, const char *want, size_t want_len, bool *any)
{
    *any = false;
    w->p = w->s;
    for (;;) {
        skip_annotations(w);
        if (!*w->p)
            return NULL;
        if (accept(w, "interface")) {
            const char *nm;
            *any = true;
            if (ident(w, &nm))
                return NULL;
            skip_ws(w);
            if (*w->p != '{')
                return NULL;
            if (want && strlen(nm) == want_len && strncmp(nm, want, want_len) == 0)
                return w->p + 1;
            skip_block(w);
        } else if (accept(w, "package")) {
            skip_stmt(w);
        } else if (accept(w, "world")) {
            skip_stmt(w);
        } else {
            return NULL; /* bare declarations */
        }
    }
}

int eos_cm__types_declare(eos_cm_types *ts, const char *wit, eos_cm__use_fn resolve, void *ud,
                          const char *iface, eos_diag *diag)
{
    wp w = {.s = wit, .p = wit, .ts = ts, .diag = diag};
    decls *ds = eos_calloc(1, sizeof(*ds));
    int rc = 0;
    uint32_t next_rdesc = 0;
    if (!ds)
        return EOS_ENOMEM;
    for (uint32_t i = 0; i < ts->name_count; i++)
        if (ts->names[i].rdesc)
            next_rdesc++;
    /* A whole WIT package may be given: then only the named interface's body
     * is read ("streams" of "wasi:io/streams@0.2.3"). */
    const char *want = NULL;
    size_t want_len = 0;
    if (iface) {
        const char *slash = strchr(iface, '/'), *at = strchr(iface, '@');
        want = slash ? slash + 1 : iface;
        want_len = at && at > want ? (size_t)(at - want) : strlen(want);
    }
    bool any;
    const char *body_start = find_interface(&w, want, want_len, &any);
    if (any && !body_start) {
        rc = eos_diag_set(diag, EOS_EINVALID, "WIT", -1,
                          "WIT text: no `interface %.*s` in the text given", (int)want_len,
                          want ? want : "");
        goto out;
    }
    w.p = body_start ? body_start : wit;
    w.decls = ds;
    if ((rc = scan_items(&w, ds, &next_rdesc, resolve, ud)))
        goto out;
    for (uint32_t i = 0; i < ds->len; i++)
        if (ds->v[i].state == 0 && (rc = parse_decl(&w, &ds->v[i])))
            goto out;
    for (uint32_t i = 0; i < ds->nres; i++) {
        w.p = ds->res_blocks[i];
        if ((rc = resource_funcs(&w, ds->res_names[i])))
            goto out;
    }
    for (uint32_t i = 0; i < ds->nfuncs; i++) {
        const char *nm;
        eos_cm_functype *ft;
        w.p = ds->funcs[i];
        if ((rc = ident(&w, &nm)) || !accept(&w, ":"))
            goto out;
        accept(&w, "static");
        if ((rc = func_sig(&w, &ft)) || (rc = add_func(&w, nm, ft)))
            goto out;
    }
out:
    eos_free(ds->v, ds->cap * sizeof(*ds->v));
    eos_free(ds, sizeof(*ds));
    return rc;
}

const eos_cm_functype *eos_cm__types_func(const eos_cm_types *ts, const char *name)
{
    for (uint32_t i = 0; i < ts->func_count; i++)
        if (strcmp(ts->funcs[i].name, name) == 0)
            return ts->funcs[i].type;
    return NULL;
}

int eos_cm_types_parse(eos_cm_types *ts, const char *expr, const eos_cm_type **out, eos_diag *diag)
{
    wp w = {.s = expr, .p = expr, .ts = ts, .diag = diag};
    int rc = type_expr(&w, out);
    skip_ws(&w);
    if (!rc && *w.p)
        return perr(&w, "unexpected text after the type");
    return rc;
}

static int named_list(wp *w, uint32_t *n, const char ***names, const eos_cm_type ***types)
{
    const char *nv[64];
    const eos_cm_type *tv[64];
    int rc;
    *n = 0;
    if (!accept(w, "("))
        return perr(w, "expected '('");
    while (!accept(w, ")")) {
        if (*n >= 64)
            return perr(w, "too many parameters");
        if ((rc = ident(w, &nv[*n])) || !accept(w, ":") || (rc = type_expr(w, &tv[*n])))
            return rc ? rc : perr(w, "expected `name: type`");
        (*n)++;
        if (!accept(w, ",")) {
            if (!accept(w, ")"))
                return perr(w, "expected ',' or ')'");
            break;
        }
    }
    *names = eos_cm_arena_alloc(w->ts->arena, (*n + 1) * sizeof(char *));
    *types = eos_cm_arena_alloc(w->ts->arena, (*n + 1) * sizeof(void *));
    if (!*names || !*types)
        return EOS_ENOMEM;
    memcpy((void *)*names, nv, *n * sizeof(char *));
    memcpy((void *)*types, tv, *n * sizeof(void *));
    return 0;
}

/* `func(params) -> result` or `-> (named results)`, then an optional ';'. */
static int func_sig(wp *w, eos_cm_functype **out)
{
    eos_cm_functype *ft = eos_cm_arena_alloc(w->ts->arena, sizeof(*ft));
    int rc;
    if (!ft)
        return EOS_ENOMEM;
    accept(w, "static");
    accept(w, "func");
    const char **pn;
    const eos_cm_type **pt;
    if ((rc = named_list(w, &ft->param_count, &pn, &pt)))
        return rc;
    ft->param_names = pn;
    ft->params = pt;
    if (accept(w, "->")) {
        skip_ws(w);
        if (*w->p == '(') {
            const char **rn;
            const eos_cm_type **rt;
            if ((rc = named_list(w, &ft->result_count, &rn, &rt)))
                return rc;
            ft->result_names = rn;
            ft->results = rt;
        } else {
            const eos_cm_type **rt = eos_cm_arena_alloc(w->ts->arena, sizeof(void *));
            const char **rn = eos_cm_arena_alloc(w->ts->arena, sizeof(char *));
            if (!rt || !rn)
                return EOS_ENOMEM;
            if ((rc = type_expr(w, &rt[0])))
                return rc;
            ft->result_count = 1;
            ft->results = rt;
            ft->result_names = rn;
        }
    }
    accept(w, ";");
    *out = ft;
    return 0;
}

int eos_cm_types_parse_func(eos_cm_types *ts, const char *sig, const eos_cm_functype **out,
                            eos_diag *diag)
{
    wp w = {.s = sig, .p = sig, .ts = ts, .diag = diag};
    eos_cm_functype *ft;
    int rc = func_sig(&w, &ft);
    if (rc)
        return rc;
    skip_ws(&w);
    if (*w.p)
        return perr(&w, "unexpected text after the signature");
    *out = ft;
    return 0;
}

/* ---- Printing ---------------------------------------------------------------- */

static const char *prim_print[] = {"bool", "s8",  "u8",  "s16", "u16",  "s32",   "u32",
                                   "s64",  "u64", "f32", "f64", "char", "string"};

static void print_type(const eos_cm_type *t, FILE *out, int depth, bool top)
{
    if (!t) {
        fputs("_", out);
        return;
    }
    if (depth > EOS_CM_MAX_DEPTH) {
        fputs("...", out);
        return;
    }
    if (t->kind <= EOS_CM_STRING) {
        fputs(prim_print[t->kind], out);
        return;
    }
    if (t->name && !top) {
        fputs(t->name, out);
        return;
    }
    switch (t->kind) {
    case EOS_CM_LIST:
    case EOS_CM_OPTION:
        fputs(t->kind == EOS_CM_LIST ? "list<" : "option<", out);
        print_type(t->elem, out, depth + 1, false);
        fputs(">", out);
        break;
    case EOS_CM_RESULT:
        fputs("result", out);
        if (t->elem || t->err) {
            fputs("<", out);
            print_type(t->elem, out, depth + 1, false);
            if (t->err) {
                fputs(", ", out);
                print_type(t->err, out, depth + 1, false);
            }
            fputs(">", out);
        }
        break;
    case EOS_CM_TUPLE:
        fputs("tuple<", out);
        for (uint32_t i = 0; i < t->count; i++) {
            if (i)
                fputs(", ", out);
            print_type(t->types[i], out, depth + 1, false);
        }
        fputs(">", out);
        break;
    case EOS_CM_RECORD:
    case EOS_CM_VARIANT:
    case EOS_CM_ENUM:
    case EOS_CM_FLAGS:
        fputs(t->kind == EOS_CM_RECORD    ? "record { "
              : t->kind == EOS_CM_VARIANT ? "variant { "
              : t->kind == EOS_CM_ENUM    ? "enum { "
                                          : "flags { ",
              out);
        for (uint32_t i = 0; i < t->count; i++) {
            if (i)
                fputs(", ", out);
            fputs(t->names[i], out);
            if (t->kind == EOS_CM_RECORD) {
                fputs(": ", out);
                print_type(t->types[i], out, depth + 1, false);
            } else if (t->kind == EOS_CM_VARIANT && t->types[i]) {
                fputs("(", out);
                print_type(t->types[i], out, depth + 1, false);
                fputs(")", out);
            }
        }
        fputs(" }", out);
        break;
    case EOS_CM_OWN:
    case EOS_CM_BORROW: {
        const char *rn = t->rdesc ? ((const eos_cm__rdesc *)t->rdesc)->name : t->rname;
        fprintf(out, "%s<%s>", t->kind == EOS_CM_OWN ? "own" : "borrow", rn ? rn : "resource");
        break;
    }
    default:
        fputs("?", out);
    }
}

int eos_cm_type_print(const eos_cm_type *t, FILE *out)
{
    print_type(t, out, 0, false);
    return ferror(out) ? EOS_EIO : 0;
}

int eos_cm_functype_print(const eos_cm_functype *ft, FILE *out)
{
    fputs("func(", out);
    for (uint32_t i = 0; i < ft->param_count; i++) {
        fprintf(out, "%s%s: ", i ? ", " : "", ft->param_names[i] ? ft->param_names[i] : "_");
        print_type(ft->params[i], out, 0, false);
    }
    fputs(")", out);
    if (ft->result_count == 1 && !ft->result_names[0]) {
        fputs(" -> ", out);
        print_type(ft->results[0], out, 0, false);
    } else if (ft->result_count > 0) {
        fputs(" -> (", out);
        for (uint32_t i = 0; i < ft->result_count; i++) {
            fprintf(out, "%s%s: ", i ? ", " : "", ft->result_names[i] ? ft->result_names[i] : "_");
            print_type(ft->results[i], out, 0, false);
        }
        fputs(")", out);
    }
    return ferror(out) ? EOS_EIO : 0;
}
