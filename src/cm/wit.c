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
} wp;

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
} prim_names[] = {{"bool", EOS_CM_BOOL}, {"s8", EOS_CM_S8},       {"u8", EOS_CM_U8},
                  {"s16", EOS_CM_S16},   {"u16", EOS_CM_U16},     {"s32", EOS_CM_S32},
                  {"u32", EOS_CM_U32},   {"s64", EOS_CM_S64},     {"u64", EOS_CM_U64},
                  {"f32", EOS_CM_F32},   {"f64", EOS_CM_F64},     {"float32", EOS_CM_F32},
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
    eos_free(ts, sizeof(*ts));
}

int eos_cm_types_declare(eos_cm_types *ts, const char *wit, eos_diag *diag)
{
    wp w = {.s = wit, .p = wit, .ts = ts, .diag = diag};
    int rc = 0;
    uint32_t next_rdesc = 0;
    for (uint32_t i = 0; i < ts->name_count; i++)
        if (ts->names[i].rdesc)
            next_rdesc++;
    for (;;) {
        skip_ws(&w);
        if (!*w.p)
            return 0;
        const char *nm;
        eos_cm_type *t = NULL;
        if (accept(&w, "record") || accept(&w, "variant") || accept(&w, "enum") ||
            accept(&w, "flags")) {
            char k = w.p[-1]; /* d, t, m, s: last letter of the keyword */
            uint8_t kind = k == 'd' ? EOS_CM_RECORD : k == 't' ? EOS_CM_VARIANT
                           : k == 'm' ? EOS_CM_ENUM : EOS_CM_FLAGS;
            if ((rc = ident(&w, &nm)) || !(t = eos_cm__type_new(ts->arena, kind)))
                return rc ? rc : EOS_ENOMEM;
            if ((rc = body(&w, t, kind == EOS_CM_RECORD, kind == EOS_CM_VARIANT)))
                return rc;
            t->name = nm;
            eos_cm__type_layout(t);
            if ((rc = add_name(&w, (eos_cm__named){.name = nm, .type = t})))
                return rc;
        } else if (accept(&w, "resource")) {
            if ((rc = ident(&w, &nm)))
                return rc;
            eos_cm__rdesc *d = eos_cm_arena_alloc(ts->arena, sizeof(*d));
            if (!d)
                return EOS_ENOMEM;
            d->name = nm;
            d->id = next_rdesc++;
            if ((rc = add_name(&w, (eos_cm__named){.name = nm, .rdesc = d})))
                return rc;
            skip_ws(&w);
            if (*w.p == '{')
                skip_block(&w);
            else if (!accept(&w, ";"))
                return perr(&w, "expected ';' after resource");
        } else if (accept(&w, "type")) {
            const eos_cm_type *target;
            if ((rc = ident(&w, &nm)) || !accept(&w, "=") || (rc = type_expr(&w, &target)) ||
                !accept(&w, ";"))
                return rc ? rc : perr(&w, "expected `type name = type;`");
            eos_cm_type *alias = eos_cm__type_new(ts->arena, target->kind);
            if (!alias)
                return EOS_ENOMEM;
            *alias = *target;
            alias->name = nm;
            if ((rc = add_name(&w, (eos_cm__named){.name = nm, .type = alias})))
                return rc;
        } else if (accept(&w, "use")) {
            while (*w.p && *w.p != ';')
                w.p++;
            if (*w.p)
                w.p++;
        } else {
            /* Function declarations (`name: func(...)`) are given by the host's
             * table; skip them here. */
            if ((rc = ident(&w, &nm)) || !accept(&w, ":"))
                return rc ? rc : perr(&w, "expected a type declaration");
            while (*w.p && *w.p != ';')
                w.p++;
            if (*w.p)
                w.p++;
        }
    }
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

int eos_cm_types_parse_func(eos_cm_types *ts, const char *sig, const eos_cm_functype **out,
                            eos_diag *diag)
{
    wp w = {.s = sig, .p = sig, .ts = ts, .diag = diag};
    eos_cm_functype *ft = eos_cm_arena_alloc(ts->arena, sizeof(*ft));
    int rc;
    if (!ft)
        return EOS_ENOMEM;
    accept(&w, "static");
    accept(&w, "func");
    const char **pn;
    const eos_cm_type **pt;
    if ((rc = named_list(&w, &ft->param_count, &pn, &pt)))
        return rc;
    ft->param_names = pn;
    ft->params = pt;
    if (accept(&w, "->")) {
        skip_ws(&w);
        if (*w.p == '(') {
            const char **rn;
            const eos_cm_type **rt;
            if ((rc = named_list(&w, &ft->result_count, &rn, &rt)))
                return rc;
            ft->result_names = rn;
            ft->results = rt;
        } else {
            const eos_cm_type **rt = eos_cm_arena_alloc(ts->arena, sizeof(void *));
            const char **rn = eos_cm_arena_alloc(ts->arena, sizeof(char *));
            if (!rt || !rn)
                return EOS_ENOMEM;
            if ((rc = type_expr(&w, &rt[0])))
                return rc;
            ft->result_count = 1;
            ft->results = rt;
            ft->result_names = rn;
        }
    }
    accept(&w, ";");
    skip_ws(&w);
    if (*w.p)
        return perr(&w, "unexpected text after the signature");
    *out = ft;
    return 0;
}

/* ---- Printing ---------------------------------------------------------------- */

static const char *prim_print[] = {"bool", "s8",  "u8",  "s16", "u16", "s32", "u32",
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
        fputs(t->kind == EOS_CM_RECORD ? "record { " : t->kind == EOS_CM_VARIANT ? "variant { "
              : t->kind == EOS_CM_ENUM ? "enum { " : "flags { ", out);
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
