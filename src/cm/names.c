/* The component model's name grammar: kebab-case labels, the annotated plain
 * names ([constructor], [method], [static]), interface names with semver
 * versions, and the dependency/URL/integrity import names; and strong
 * uniqueness, which decides when two import or export names collide. */
#include <string.h>
#include <strings.h>

#include "internal.h"

static bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* label ::= fragment ('-' fragment)*; a fragment is a word ([a-z][0-9a-z]*)
 * or an acronym ([A-Z][0-9A-Z]*), and after the first one may also start
 * with digits ("go-1"). With words_only, acronyms are refused (the namespace
 * and package parts of interface names). */
static bool label_ok(const char *s, size_t len, bool words_only)
{
    if (len == 0)
        return false;
    size_t i = 0;
    for (bool first = true;; first = false) {
        if (i >= len || s[i] == '-')
            return false;
        if (first && !is_lower(s[i]) && !is_upper(s[i]))
            return false;
        int mode = 0; /* 0 = digits so far, 1 = word, 2 = acronym */
        for (; i < len && s[i] != '-'; i++) {
            char c = s[i];
            if (is_digit(c))
                continue;
            int m = is_lower(c) ? 1 : is_upper(c) ? 2 : 3;
            if (m == 3 || (m == 2 && words_only) || (mode && m != mode))
                return false;
            mode = m;
        }
        if (i == len)
            return true;
        i++; /* the '-' must be followed by another fragment */
    }
}

bool eos_cm__label_ok(const char *s, size_t len)
{
    return label_ok(s, len, false);
}

/* A semver numeric part: digits, no leading zero. */
static const char *semver_num(const char *p, const char *end, const char **why)
{
    if (p == end) {
        *why = "a version number is missing";
        return NULL;
    }
    if (!is_digit(*p)) {
        *why = "unexpected character in a version number";
        return NULL;
    }
    const char *start = p;
    while (p < end && is_digit(*p))
        p++;
    if (*start == '0' && p - start > 1) {
        *why = "leading zero in a version number";
        return NULL;
    }
    return p;
}

/* Dot-separated identifiers of a pre-release or build suffix. */
static const char *semver_idents(const char *p, const char *end, bool pre, const char **why)
{
    for (;;) {
        const char *start = p;
        bool numeric = true;
        while (p < end && (is_digit(*p) || is_lower(*p) || is_upper(*p) || *p == '-')) {
            numeric &= is_digit(*p);
            p++;
        }
        if (p == start) {
            *why = "empty identifier segment in a version";
            return NULL;
        }
        if (pre && numeric && *start == '0' && p - start > 1) {
            *why = "leading zero in a pre-release version";
            return NULL;
        }
        if (p == end || *p != '.')
            return p;
        p++;
    }
}

static bool semver_ok(const char *p, const char *end, const char **why)
{
    if (p == end) {
        *why = "empty version string";
        return false;
    }
    for (int i = 0; i < 3; i++) {
        if (i > 0) {
            if (p == end || *p != '.') {
                *why = p == end ? "unexpected end of a version" : "unexpected character in a version";
                return false;
            }
            p++;
        }
        if (!(p = semver_num(p, end, why)))
            return false;
    }
    if (p < end && *p == '-' && !(p = semver_idents(p + 1, end, true, why)))
        return false;
    if (p < end && *p == '+' && !(p = semver_idents(p + 1, end, false, why)))
        return false;
    if (p != end) {
        *why = "unexpected character in a version";
        return false;
    }
    return true;
}

/* namespace ':' package '/' interface ('@' version)? */
static bool interface_ok(const char *s, size_t len, const char **why)
{
    const char *end = s + len, *colon = memchr(s, ':', len);
    if (!colon || !label_ok(s, (size_t)(colon - s), true)) {
        *why = "the namespace is not a kebab-case word list";
        return false;
    }
    const char *pkg = colon + 1, *slash = memchr(pkg, '/', (size_t)(end - pkg));
    if (!slash || !label_ok(pkg, (size_t)(slash - pkg), true)) {
        *why = "expected a kebab-case package name and `/` after it";
        return false;
    }
    const char *iface = slash + 1, *at = memchr(iface, '@', (size_t)(end - iface));
    const char *iend = at ? at : end;
    if (!label_ok(iface, (size_t)(iend - iface), false)) {
        *why = memchr(iface, '/', (size_t)(iend - iface))
                   ? "nested projections are not allowed in an interface name"
                   : "the interface name is not in kebab case";
        return false;
    }
    return !at || semver_ok(at + 1, end, why);
}

bool eos_cm__interface_name_ok(const char *s, size_t len, const char **why)
{
    return interface_ok(s, len, why);
}

/* "pre=<" body ">" with no '<' or '>' inside, optionally ",integrity=<...>". */
static bool bracketed(const char *s, size_t len, const char *pre, bool hash_ok)
{
    size_t pl = strlen(pre);
    if (len < pl + 1 || memcmp(s, pre, pl) != 0)
        return false;
    size_t i = pl;
    while (i < len && s[i] != '>' && s[i] != '<')
        i++;
    if (i >= len || s[i] != '>' || i == pl)
        return false;
    i++;
    if (i == len)
        return true;
    return hash_ok && s[i] == ',' && bracketed(s + i + 1, len - i - 1, "integrity=<", false);
}

/* A plain name: a label, or an annotated one. */
static bool plain_ok(const char *s, size_t len, const char **why)
{
    static const char *const ann[] = {"[constructor]", "[method]", "[static]"};
    for (int i = 0; i < 3; i++) {
        size_t al = strlen(ann[i]);
        if (len < al || memcmp(s, ann[i], al) != 0)
            continue;
        const char *rest = s + al;
        size_t rl = len - al;
        if (i == 0) {
            if (!label_ok(rest, rl, false)) {
                *why = "the constructor's resource name is not in kebab case";
                return false;
            }
            return true;
        }
        const char *dot = memchr(rest, '.', rl);
        if (!dot) {
            *why = "failed to find `.` character in a method or static name";
            return false;
        }
        if (!label_ok(rest, (size_t)(dot - rest), false) ||
            !label_ok(dot + 1, (size_t)(rest + rl - dot - 1), false)) {
            *why = "a method or static name is not in kebab case";
            return false;
        }
        return true;
    }
    if (!label_ok(s, len, false)) {
        *why = "the name is not in kebab case";
        return false;
    }
    return true;
}

bool eos_cm__extern_name_ok(const char *s, size_t len, bool import, const char **why)
{
    if (len && s[0] == '[')
        return plain_ok(s, len, why);
    if (memchr(s, ':', len))
        return interface_ok(s, len, why);
    if (import && (bracketed(s, len, "unlocked-dep=<", false) ||
                   bracketed(s, len, "locked-dep=<", true) || bracketed(s, len, "url=<", true) ||
                   bracketed(s, len, "integrity=<", false)))
        return true;
    return plain_ok(s, len, why);
}

/* The part of a name strong uniqueness compares, and for [method]l.l and
 * [static]l.l the plain label l they also collide with. */
static void unique_key(const char *n, const char **key, size_t *klen, const char **alt,
                       size_t *alen)
{
    *key = n, *klen = strlen(n), *alt = NULL, *alen = 0;
    size_t skip = !strncmp(n, "[method]", 8) ? 8 : !strncmp(n, "[static]", 8) ? 8 : 0;
    if (!skip)
        return;
    *key = n + skip, *klen -= skip;
    const char *dot = strchr(*key, '.');
    if (!dot)
        return;
    size_t rl = (size_t)(dot - *key);
    if (strlen(dot + 1) == rl && !strncasecmp(*key, dot + 1, rl))
        *alt = *key, *alen = rl;
}

static bool same(const char *a, size_t al, const char *b, size_t bl)
{
    return a && b && al == bl && !strncasecmp(a, b, al);
}

bool eos_cm__names_conflict(const char *a, const char *b)
{
    const char *ka, *kb, *xa, *xb;
    size_t kal, kbl, xal, xbl;
    unique_key(a, &ka, &kal, &xa, &xal);
    unique_key(b, &kb, &kbl, &xb, &xbl);
    /* [method]r.m and [static]r.m collide; a plain name only with itself. */
    bool a_dotted = ka != a, b_dotted = kb != b;
    if (a_dotted == b_dotted)
        return same(ka, kal, kb, kbl);
    return a_dotted ? same(xa, xal, b, strlen(b)) : same(xb, xbl, a, strlen(a));
}

/* ---- Annotated names: [constructor], [method] and [static] ---------------- */

/* The name the context gives resource rd (its import or export as a type). */
static const char *resource_name(const eos_cm__ctx_iter *it, const eos_cm__rdesc *rd)
{
    const char *n;
    const eos_cm__typedef *t;
    for (uint32_t i = 0; it->nth(it->ud, i, &n, &t); i++)
        if (t->kind == EOS_CM__T_RESOURCE && t->of.rdesc == rd)
            return n;
    return NULL;
}

static bool resource_known(const eos_cm__ctx_iter *it, const char *res, size_t len)
{
    const char *n;
    const eos_cm__typedef *t;
    for (uint32_t i = 0; it->nth(it->ud, i, &n, &t); i++)
        if (t->kind == EOS_CM__T_RESOURCE && strlen(n) == len && !memcmp(n, res, len))
            return true;
    return false;
}

/* The handle type's resource must be the one named res in the context. */
static bool handle_named(const eos_cm__ctx_iter *it, const eos_cm_type *h, const char *res,
                         size_t len, const char **why)
{
    const char *n = h->rdesc ? resource_name(it, h->rdesc) : NULL;
    if (!n) {
        *why = "resource used in function does not have a name in this context";
        return false;
    }
    if (strlen(n) != len || memcmp(n, res, len) != 0) {
        *why = "function does not match expected resource name";
        return false;
    }
    return true;
}

bool eos_cm__annotated_ok(const char *name, uint8_t item_kind, const eos_cm__typedef *type,
                          const eos_cm__ctx_iter *it, const char **why)
{
    int which = !strncmp(name, "[constructor]", 13) ? 0
                : !strncmp(name, "[method]", 8)    ? 1
                : !strncmp(name, "[static]", 8)    ? 2
                                                   : -1;
    if (which < 0)
        return true;
    if (item_kind != EOS_CM_ITEM_FUNC) {
        *why = "an annotated name is not a func";
        return false;
    }
    const eos_cm_functype *f = type->kind == EOS_CM__T_FUNC ? type->of.func : NULL;
    if (!f)
        return true; /* type unknown here */
    const char *res = name + (which == 0 ? 13 : 8);
    size_t len = which == 0 ? strlen(res) : (size_t)(strchr(res, '.') - res);
    if (which == 2) {
        if (!resource_known(it, res, len)) {
            *why = "static resource name is not known in this context";
            return false;
        }
        return true;
    }
    if (which == 1) {
        if (f->param_count == 0) {
            *why = "a method should have at least one argument";
            return false;
        }
        if (!f->param_names[0] || strcmp(f->param_names[0], "self") != 0) {
            *why = "a method should have a first argument called `self`";
            return false;
        }
        if (f->params[0]->kind != EOS_CM_BORROW) {
            *why = "a method should take a first argument of `(borrow $T)`";
            return false;
        }
        return handle_named(it, f->params[0], res, len, why);
    }
    if (f->result_count != 1) {
        *why = "a constructor should return one value";
        return false;
    }
    const eos_cm_type *r = f->results[0];
    if (r->kind == EOS_CM_RESULT && r->elem && r->elem->kind == EOS_CM_OWN)
        r = r->elem;
    if (r->kind != EOS_CM_OWN) {
        *why = "a constructor function should return `(own $T)` or `(result (own $T))`";
        return false;
    }
    return handle_named(it, r, res, len, why);
}

/* A context iterator over an array of declarations (type scopes and inline
 * instance exports). */
bool eos_cm__decls_nth(void *ud, uint32_t i, const char **name, const eos_cm__typedef **type)
{
    const eos_cm__decls *d = ud;
    if (i >= d->n)
        return false;
    *name = d->v[i].name;
    *type = &d->v[i].type;
    return true;
}
