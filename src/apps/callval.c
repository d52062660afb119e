/* wasm_call: the export's type from the component, JSON parameters lowered
 * into component values and results raised back into JSON, exactly as SPEC
 * 3.1 maps them (64-bit integers beyond 2^53 as strings, NaN and infinities
 * as strings, variants as {"case": v}, options as null or the value...). */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "internal.h"

#define MAX_DEPTH 64

typedef struct conv {
    eos_cm_arena *arena;
    char err[256];
} conv;

static int conv_fail(conv *cv, const char *fmt, const char *a)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(cv->err, sizeof cv->err, fmt, a ? a : "");
#pragma GCC diagnostic pop
    return -1;
}

/* 1 when an exported instance's name answers for want (n bytes): the same
 * name, or the same interface at a semver-compatible version
 * ("wasi:cli/run@0.2.0" finds "wasi:cli/run@0.2.12"), as the component host
 * links them. */
static int iface_matches(const char *have, const char *want, size_t n)
{
    if (strlen(have) == n && strncmp(have, want, n) == 0)
        return 1;
    const char *ha = strchr(have, '@'), *wa = memchr(want, '@', n);
    if (!ha || !wa || ha - have != wa - want || strncmp(have, want, (size_t)(ha - have)) != 0)
        return 0;
    char wv[32];
    size_t wn = n - (size_t)(wa + 1 - want);
    if (wn >= sizeof wv)
        return 0;
    memcpy(wv, wa + 1, wn);
    wv[wn] = 0;
    unsigned hmaj, hmin, wmaj, wmin;
    if (sscanf(ha + 1, "%u.%u", &hmaj, &hmin) != 2 || sscanf(wv, "%u.%u", &wmaj, &wmin) != 2)
        return 0;
    return hmaj == wmaj && (hmaj != 0 || hmin == wmin);
}

static const eos_cm_functype *find_func(const eos_cm_component *c, const char *name)
{
    const char *hash = strchr(name, '#');
    size_t n = eos_cm_component_export_count(c);
    for (size_t i = 0; i < n; i++) {
        eos_cm_item_desc d;
        eos_cm_component_export(c, i, &d);
        if (!hash) {
            if (d.kind == EOS_CM_ITEM_FUNC && strcmp(d.name, name) == 0)
                return d.func;
            continue;
        }
        if (d.kind != EOS_CM_ITEM_INSTANCE || !iface_matches(d.name, name, (size_t)(hash - name)))
            continue;
        for (size_t m = 0;; m++) {
            eos_cm_item_desc md;
            if (eos_cm_component_export_member(c, i, m, &md) < 0)
                break;
            if (md.kind == EOS_CM_ITEM_FUNC && strcmp(md.name, hash + 1) == 0)
                return md.func;
        }
    }
    return NULL;
}

static int int_from_json(conv *cv, const eos_cm_type *t, yajl_val j, eos_cm_val *out)
{
    static const struct {
        int64_t min;
        uint64_t max;
    } r[] = {
        [EOS_CM_S8] = {-128, 127},
        [EOS_CM_U8] = {0, 255},
        [EOS_CM_S16] = {-32768, 32767},
        [EOS_CM_U16] = {0, 65535},
        [EOS_CM_S32] = {INT32_MIN, INT32_MAX},
        [EOS_CM_U32] = {0, UINT32_MAX},
        [EOS_CM_S64] = {INT64_MIN, INT64_MAX},
        [EOS_CM_U64] = {0, UINT64_MAX},
    };
    const char *text = NULL;
    if (YAJL_IS_NUMBER(j))
        text = j->u.number.r;
    else if (YAJL_IS_STRING(j))
        text = j->u.string;
    if (!text || !*text)
        return conv_fail(cv, "expected an integer%s", NULL);
    char *end = NULL;
    int neg = text[0] == '-';
    errno = 0;
    if (neg) {
        long long v = strtoll(text, &end, 10);
        if (*end || errno || v < r[t->kind].min)
            return conv_fail(cv, "integer '%s' out of range for its type", text);
        out->of.s = v;
    } else {
        unsigned long long v = strtoull(text, &end, 10);
        if (*end || errno || v > r[t->kind].max || text[0] == ' ')
            return conv_fail(cv, "integer '%s' out of range for its type", text);
        if (t->kind == EOS_CM_S8 || t->kind == EOS_CM_S16 || t->kind == EOS_CM_S32 ||
            t->kind == EOS_CM_S64)
            out->of.s = (int64_t)v;
        else
            out->of.u = v;
    }
    return 0;
}

static int float_from_json(conv *cv, yajl_val j, double *out)
{
    if (YAJL_IS_NUMBER(j)) {
        *out = strtod(j->u.number.r, NULL);
        return 0;
    }
    if (YAJL_IS_STRING(j)) {
        if (strcmp(j->u.string, "NaN") == 0)
            *out = NAN;
        else if (strcmp(j->u.string, "inf") == 0)
            *out = INFINITY;
        else if (strcmp(j->u.string, "-inf") == 0)
            *out = -INFINITY;
        else
            return conv_fail(cv, "expected a number, \"NaN\", \"inf\" or \"-inf\", not \"%s\"",
                             j->u.string);
        return 0;
    }
    return conv_fail(cv, "expected a number%s", NULL);
}

/* Decodes one UTF-8 scalar that must be the whole string. */
static int char_from_json(conv *cv, yajl_val j, uint32_t *out)
{
    if (!YAJL_IS_STRING(j))
        return conv_fail(cv, "expected a one-character string%s", NULL);
    const unsigned char *s = (const unsigned char *)j->u.string;
    size_t n = strlen(j->u.string);
    uint32_t c;
    size_t len;
    if (n >= 1 && s[0] < 0x80)
        c = s[0], len = 1;
    else if (n >= 2 && (s[0] & 0xe0) == 0xc0)
        c = (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f), len = 2;
    else if (n >= 3 && (s[0] & 0xf0) == 0xe0)
        c = (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f), len = 3;
    else if (n >= 4 && (s[0] & 0xf8) == 0xf0)
        c = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
            (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f),
        len = 4;
    else
        return conv_fail(cv, "expected a one-character string%s", NULL);
    if (len != n)
        return conv_fail(cv, "expected exactly one character, not \"%s\"", j->u.string);
    if ((c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
        return conv_fail(cv, "not a Unicode scalar value%s", NULL);
    *out = c;
    return 0;
}

static int case_index(const eos_cm_type *t, const char *name, uint32_t *out)
{
    for (uint32_t i = 0; i < t->count; i++)
        if (strcmp(t->names[i], name) == 0) {
            *out = i;
            return 0;
        }
    return -1;
}

static eos_cm_val *new_vals(conv *cv, size_t n)
{
    return eos_cm_arena_alloc(cv->arena, (n ? n : 1) * sizeof(eos_cm_val));
}

/* JSON -> value is a builder of the cm value walk: for each node, js holds
 * the JSON it comes from; a variant, option or result leaves its payload's
 * JSON in kid. */
typedef struct from {
    conv *cv;
    yajl_val js[MAX_DEPTH + 1];
    yajl_val kid[MAX_DEPTH + 1];
} from;

static int from_bad(void *ud, const char *why)
{
    return conv_fail(((from *)ud)->cv, "%s", why);
}

/* The JSON of the node at pos, from its parent's. */
static yajl_val node_json(from *f, const eos_cm_walk_pos *pos)
{
    yajl_val up = f->js[pos->depth - 1];
    switch (pos->parent->kind) {
    case EOS_CM_LIST:
    case EOS_CM_TUPLE:
        return up->u.array.values[pos->index];
    case EOS_CM_RECORD: {
        const char *path[] = {pos->name, NULL};
        return yajl_tree_get(up, path, yajl_t_any);
    }
    default:
        return f->kid[pos->depth - 1];
    }
}

static int from_pre(void *ud, const eos_cm_type *t, eos_cm_val *out, const eos_cm_walk_pos *pos)
{
    from *f = ud;
    conv *cv = f->cv;
    yajl_val j = f->js[0];
    if (pos->depth > 0 && !(j = f->js[pos->depth] = node_json(f, pos)))
        return conv_fail(cv, "record field '%s' is missing", pos->name);
    switch ((eos_cm_kind)t->kind) {
    case EOS_CM_BOOL:
        if (!YAJL_IS_TRUE(j) && !YAJL_IS_FALSE(j))
            return conv_fail(cv, "expected true or false%s", NULL);
        out->of.b = YAJL_IS_TRUE(j);
        return 0;
    case EOS_CM_S8:
    case EOS_CM_U8:
    case EOS_CM_S16:
    case EOS_CM_U16:
    case EOS_CM_S32:
    case EOS_CM_U32:
    case EOS_CM_S64:
    case EOS_CM_U64:
        return int_from_json(cv, t, j, out);
    case EOS_CM_F32: {
        double v;
        if (float_from_json(cv, j, &v) < 0)
            return -1;
        /* Converting a double beyond float's range is undefined: saturate. */
        if (isfinite(v) && fabs(v) > FLT_MAX)
            v = v > 0 ? INFINITY : -INFINITY;
        out->of.f32 = (float)v;
        return 0;
    }
    case EOS_CM_F64:
        return float_from_json(cv, j, &out->of.f64);
    case EOS_CM_CHAR:
        return char_from_json(cv, j, &out->of.ch);
    case EOS_CM_STRING:
        if (!YAJL_IS_STRING(j))
            return conv_fail(cv, "expected a string%s", NULL);
        out->of.str.ptr = j->u.string;
        out->of.str.len = strlen(j->u.string);
        return 0;
    case EOS_CM_LIST:
    case EOS_CM_TUPLE: {
        if (!YAJL_IS_ARRAY(j))
            return conv_fail(cv, "expected an array%s", NULL);
        size_t n = j->u.array.len;
        if (t->kind == EOS_CM_TUPLE && n != t->count)
            return conv_fail(cv, "tuple of the wrong length%s", NULL);
        out->of.list.len = n;
        if (t->kind == EOS_CM_TUPLE || (t->elem->kind != EOS_CM_U8 && t->elem->kind != EOS_CM_S8))
            return 0; /* the walk builds the elements */
        uint8_t *b = eos_cm_arena_alloc(cv->arena, n ? n : 1);
        if (!b)
            return conv_fail(cv, "out of memory%s", NULL);
        for (size_t i = 0; i < n; i++) {
            eos_cm_val v;
            if (int_from_json(cv, t->elem, j->u.array.values[i], &v) < 0)
                return -1;
            b[i] = (uint8_t)v.of.u;
        }
        out->of.list.bytes = b;
        return 0;
    }
    case EOS_CM_RECORD:
        if (!YAJL_IS_OBJECT(j))
            return conv_fail(cv, "expected an object (record)%s", NULL);
        return 0;
    case EOS_CM_ENUM:
        if (!YAJL_IS_STRING(j) || case_index(t, j->u.string, &out->of.var.index) < 0)
            return conv_fail(cv, "expected one of the enum's case names%s", NULL);
        return 0;
    case EOS_CM_VARIANT: {
        const char *name = NULL;
        yajl_val payload = NULL;
        if (YAJL_IS_STRING(j))
            name = j->u.string;
        else if (YAJL_IS_OBJECT(j) && j->u.object.len == 1) {
            name = j->u.object.keys[0];
            payload = j->u.object.values[0];
        }
        if (!name || case_index(t, name, &out->of.var.index) < 0)
            return conv_fail(cv, "expected a variant case: \"case\" or {\"case\": value}%s", NULL);
        if (t->types[out->of.var.index] && !payload)
            return conv_fail(cv, "variant case '%s' needs a payload", name);
        f->kid[pos->depth] = payload;
        return 0;
    }
    case EOS_CM_OPTION: {
        out->of.var.index = YAJL_IS_NULL(j) ? 0 : 1;
        yajl_val inner = j;
        if (out->of.var.index && t->elem->kind == EOS_CM_OPTION) {
            const char *path[] = {"some", NULL};
            inner = YAJL_IS_OBJECT(j) ? yajl_tree_get(j, path, yajl_t_any) : NULL;
            if (!inner)
                return conv_fail(cv, "a nested option is written {\"some\": value} or null%s",
                                 NULL);
        }
        f->kid[pos->depth] = inner;
        return 0;
    }
    case EOS_CM_RESULT: {
        if (!YAJL_IS_OBJECT(j) || j->u.object.len != 1)
            return conv_fail(cv, "expected {\"ok\": value} or {\"err\": value}%s", NULL);
        int is_err = strcmp(j->u.object.keys[0], "err") == 0;
        if (!is_err && strcmp(j->u.object.keys[0], "ok") != 0)
            return conv_fail(cv, "expected {\"ok\": value} or {\"err\": value}%s", NULL);
        out->of.var.index = (uint32_t)is_err;
        f->kid[pos->depth] = j->u.object.values[0];
        return 0;
    }
    case EOS_CM_FLAGS: {
        if (!YAJL_IS_ARRAY(j))
            return conv_fail(cv, "flags are an array of names%s", NULL);
        uint32_t words = t->count > 64 ? (t->count - 64 + 31) / 32 : 0;
        uint32_t *more = words ? eos_cm_arena_alloc(cv->arena, words * 4) : NULL;
        if (words && !more)
            return conv_fail(cv, "out of memory%s", NULL);
        out->of.flags.bits = 0;
        out->of.flags.more = more;
        for (size_t i = 0; i < j->u.array.len; i++) {
            yajl_val fl = j->u.array.values[i];
            uint32_t idx;
            if (!YAJL_IS_STRING(fl) || case_index(t, fl->u.string, &idx) < 0)
                return conv_fail(cv, "unknown flag name%s", NULL);
            if (idx < 64)
                out->of.flags.bits |= (uint64_t)1 << idx;
            else
                more[(idx - 64) / 32] |= (uint32_t)1 << ((idx - 64) % 32);
        }
        return 0;
    }
    default:
        return conv_fail(cv, "resources cannot be passed as JSON%s", NULL);
    }
}

static int from_json(conv *cv, const eos_cm_type *t, yajl_val j, eos_cm_val *out)
{
    from f;
    f.cv = cv;
    f.js[0] = j;
    eos_cm_builder b = {
        .pre = from_pre, .bad = from_bad, .ud = &f, .max_depth = MAX_DEPTH, .arena = cv->arena};
    return eos_cm_val_build(t, out, &b) ? -1 : 0;
}

static void gen_str(yajl_gen g, const char *s, size_t n)
{
    yajl_gen_string(g, (const unsigned char *)s, n);
}

static void gen_cstr(yajl_gen g, const char *s)
{
    gen_str(g, s, strlen(s));
}

static void gen_float(yajl_gen g, double v)
{
    if (isnan(v))
        gen_cstr(g, "NaN");
    else if (isinf(v))
        gen_cstr(g, v > 0 ? "inf" : "-inf");
    else {
        char buf[40];
        int n = snprintf(buf, sizeof buf, "%.17g", v);
        yajl_gen_number(g, buf, (size_t)n);
    }
}

/* Value -> JSON is a visitor of the cm value walk: pre writes a leaf or
 * opens a compound (with the key a record member or variant case needs),
 * post closes it. */
static bool to_opens(const eos_cm_type *t, const eos_cm_val *v)
{
    switch ((eos_cm_kind)t->kind) {
    case EOS_CM_LIST:
        return !v->of.list.bytes;
    case EOS_CM_TUPLE:
    case EOS_CM_RECORD:
    case EOS_CM_RESULT:
        return true;
    case EOS_CM_VARIANT:
        return t->types[v->of.var.index] != NULL;
    case EOS_CM_OPTION:
        return v->of.var.index && t->elem->kind == EOS_CM_OPTION;
    default:
        return false;
    }
}

static int to_pre(void *ud, const eos_cm_type *t, const eos_cm_val *v, const eos_cm_walk_pos *pos)
{
    yajl_gen g = ud;
    char buf[32];
    if (pos->depth > MAX_DEPTH + 1)
        return 0; /* inside a part already written as null */
    if (pos->parent && pos->parent->kind == EOS_CM_RECORD)
        gen_cstr(g, pos->name);
    if (pos->depth > MAX_DEPTH) {
        yajl_gen_null(g); /* too deep to write: null stands for the part */
        return 0;
    }
    switch ((eos_cm_kind)t->kind) {
    case EOS_CM_BOOL:
        yajl_gen_bool(g, v->of.b);
        break;
    case EOS_CM_S8:
    case EOS_CM_S16:
    case EOS_CM_S32:
    case EOS_CM_S64: {
        int n = snprintf(buf, sizeof buf, "%lld", (long long)v->of.s);
        if (v->of.s > (1LL << 53) || v->of.s < -(1LL << 53))
            gen_str(g, buf, (size_t)n);
        else
            yajl_gen_number(g, buf, (size_t)n);
        break;
    }
    case EOS_CM_U8:
    case EOS_CM_U16:
    case EOS_CM_U32:
    case EOS_CM_U64: {
        int n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)v->of.u);
        if (v->of.u > (1ULL << 53))
            gen_str(g, buf, (size_t)n);
        else
            yajl_gen_number(g, buf, (size_t)n);
        break;
    }
    case EOS_CM_F32:
        gen_float(g, v->of.f32);
        break;
    case EOS_CM_F64:
        gen_float(g, v->of.f64);
        break;
    case EOS_CM_CHAR: {
        uint32_t c = v->of.ch;
        unsigned char u[4];
        size_t n;
        if (c < 0x80)
            u[0] = (unsigned char)c, n = 1;
        else if (c < 0x800)
            u[0] = (unsigned char)(0xc0 | c >> 6), u[1] = (unsigned char)(0x80 | (c & 0x3f)), n = 2;
        else if (c < 0x10000)
            u[0] = (unsigned char)(0xe0 | c >> 12),
            u[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f)),
            u[2] = (unsigned char)(0x80 | (c & 0x3f)), n = 3;
        else
            u[0] = (unsigned char)(0xf0 | c >> 18),
            u[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f)),
            u[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f)),
            u[3] = (unsigned char)(0x80 | (c & 0x3f)), n = 4;
        gen_str(g, (const char *)u, n);
        break;
    }
    case EOS_CM_STRING:
        gen_str(g, v->of.str.ptr, v->of.str.len);
        break;
    case EOS_CM_LIST:
    case EOS_CM_TUPLE:
        yajl_gen_array_open(g);
        if (t->kind == EOS_CM_LIST && v->of.list.bytes) {
            for (size_t i = 0; i < v->of.list.len; i++) {
                int n = t->elem->kind == EOS_CM_S8
                            ? snprintf(buf, sizeof buf, "%d", (int)(int8_t)v->of.list.bytes[i])
                            : snprintf(buf, sizeof buf, "%u", v->of.list.bytes[i]);
                yajl_gen_number(g, buf, (size_t)n);
            }
            yajl_gen_array_close(g);
        }
        break;
    case EOS_CM_RECORD:
        yajl_gen_map_open(g);
        break;
    case EOS_CM_ENUM:
        gen_cstr(g, t->names[v->of.var.index]);
        break;
    case EOS_CM_VARIANT:
        if (to_opens(t, v))
            yajl_gen_map_open(g);
        gen_cstr(g, t->names[v->of.var.index]);
        break;
    case EOS_CM_OPTION:
        if (v->of.var.index == 0) {
            yajl_gen_null(g);
        } else if (to_opens(t, v)) {
            yajl_gen_map_open(g);
            gen_cstr(g, "some");
        }
        break;
    case EOS_CM_RESULT:
        yajl_gen_map_open(g);
        gen_cstr(g, v->of.var.index ? "err" : "ok");
        if (!eos_cm_type_case(t, v->of.var.index))
            yajl_gen_null(g);
        break;
    case EOS_CM_FLAGS:
        yajl_gen_array_open(g);
        for (uint32_t i = 0; i < t->count; i++) {
            int set = i < 64 ? (int)((v->of.flags.bits >> i) & 1)
                             : (v->of.flags.more &&
                                ((v->of.flags.more[(i - 64) / 32] >> ((i - 64) % 32)) & 1));
            if (set)
                gen_cstr(g, t->names[i]);
        }
        yajl_gen_array_close(g);
        break;
    default:
        yajl_gen_null(g);
    }
    return 0;
}

static int to_post(void *ud, const eos_cm_type *t, const eos_cm_val *v, const eos_cm_walk_pos *pos)
{
    yajl_gen g = ud;
    if (pos->depth > MAX_DEPTH || !to_opens(t, v))
        return 0;
    if (t->kind == EOS_CM_LIST || t->kind == EOS_CM_TUPLE)
        yajl_gen_array_close(g);
    else
        yajl_gen_map_close(g);
    return 0;
}

/* Values here were lifted by the engine or built by from_json, so they fit
 * their types and nest no deeper than the walk allows. */
static void to_json(yajl_gen g, const eos_cm_type *t, const eos_cm_val *v)
{
    eos_cm_walker w = {.pre = to_pre, .post = to_post, .ud = g};
    eos_cm_val_walk(t, v, &w);
}

int eos_apps__params_roundtrip(const eos_cm_functype *ft, const char *json, size_t size, char **out,
                              size_t *out_size, char *err, size_t err_size)
{
    int rc = EOS_EINVAL;
    conv cv;
    memset(&cv, 0, sizeof cv);
    yajl_val params = NULL;
    yajl_gen g = NULL;
    int oom = 0;
    cv.arena = eos_cm_arena_new();
    char *text = eos_malloc(size + 1);
    if (!cv.arena || !text) {
        rc = EOS_ENOMEM;
        goto out;
    }
    memcpy(text, json, size);
    text[size] = 0;
    char perr[128];
    params = yajl_tree_parse(text, perr, sizeof perr);
    if (!params || !YAJL_IS_ARRAY(params) || params->u.array.len != ft->param_count) {
        snprintf(err, err_size, "expected an array of %u values", ft->param_count);
        goto out;
    }
    eos_cm_val *args = new_vals(&cv, ft->param_count);
    if (!args) {
        rc = EOS_ENOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < ft->param_count; i++)
        if (from_json(&cv, ft->params[i], params->u.array.values[i], &args[i]) < 0) {
            snprintf(err, err_size, "parameter %u: %s", i + 1, cv.err);
            goto out;
        }
    g = eos_proto_json_gen_new(&oom);
    if (!g) {
        rc = EOS_ENOMEM;
        goto out;
    }
    yajl_gen_array_open(g);
    for (uint32_t i = 0; i < ft->param_count; i++)
        to_json(g, ft->params[i], &args[i]);
    yajl_gen_array_close(g);
    if (oom) {
        rc = EOS_ENOMEM;
        goto out;
    }
    rc = eos_proto_json_finish(g, out, out_size);
    g = NULL;
out:
    if (g)
        yajl_gen_free(g);
    if (params)
        yajl_tree_free(params);
    if (text)
        eos_free(text, size + 1);
    eos_cm_arena_free(cv.arena);
    return rc;
}

/* The answer to a call that ran: {"status":"ok","returns":[...]} from its
 * results, or when it exited {"status":"exited","exit_code":N} (a command
 * that called exit: its status is the answer, as a process's exit code is,
 * and the run function returns nothing then); both name the fuel the call
 * used. */
static int answer_doc(const eos_cm_functype *ft, const eos_cm_val *results,
                      const eos_wasi_outcome *oc, bool exited, char **out, size_t *out_size)
{
    int oom = 0;
    yajl_gen g = eos_proto_json_gen_new(&oom);
    if (!g)
        return EOS_ENOMEM;
    yajl_gen_map_open(g);
    gen_cstr(g, "status");
    if (!exited) {
        gen_cstr(g, "ok");
        gen_cstr(g, "returns");
        yajl_gen_array_open(g);
        for (uint32_t i = 0; i < ft->result_count; i++)
            to_json(g, ft->results[i], &results[i]);
        yajl_gen_array_close(g);
    } else {
        gen_cstr(g, "exited");
        gen_cstr(g, "exit_code");
        yajl_gen_integer(g, oc->exit_status);
    }
    gen_cstr(g, "fuel_consumed");
    yajl_gen_integer(g, (long long)oc->fuel_consumed);
    yajl_gen_map_close(g);
    if (oom) {
        yajl_gen_free(g);
        return EOS_ENOMEM;
    }
    return eos_proto_json_finish(g, out, out_size);
}

int eos_apps__call(eos_apps_app *a, const char *func, const char *params_json, size_t params_size,
                   const eos_wasi_cmdline *cmd, char **out, size_t *out_size)
{
    int rc;
    conv cv;
    memset(&cv, 0, sizeof cv);
    yajl_val params = NULL;
    eos_cm_val *args = NULL, *results = NULL;
    char msg[400];
    const eos_cm_functype *ft = find_func(a->comp, func);
    if (!ft) {
        snprintf(msg, sizeof msg, "app '%s' exports no function '%.100s'", a->name, func);
        return eos_apps_error_doc("not_found", msg, out, out_size);
    }
    for (uint32_t i = 0; i < ft->param_count; i++)
        if (eos_cm_type_has_handles(ft->params[i]))
            return eos_apps_error_doc("invalid_request",
                                       "functions taking resources cannot be called this way", out,
                                       out_size);
    for (uint32_t i = 0; i < ft->result_count; i++)
        if (eos_cm_type_has_handles(ft->results[i]))
            return eos_apps_error_doc("invalid_request",
                                       "functions returning resources cannot be called this way",
                                       out, out_size);
    cv.arena = eos_cm_arena_new();
    if (!cv.arena)
        return EOS_ENOMEM;
    char *text = eos_malloc(params_size + 1);
    if (!text) {
        rc = EOS_ENOMEM;
        goto out;
    }
    memcpy(text, params_json, params_size);
    text[params_size] = 0;
    char err[128];
    params = yajl_tree_parse(text, err, sizeof err);
    eos_free(text, params_size + 1);
    if (!params || !YAJL_IS_ARRAY(params) || params->u.array.len != ft->param_count) {
        snprintf(msg, sizeof msg,
                 "'%.100s' takes %u parameter%s: pass \"params\" as an array of "
                 "that length",
                 func, ft->param_count, ft->param_count == 1 ? "" : "s");
        rc = eos_apps_error_doc("invalid_params", msg, out, out_size);
        goto out;
    }
    args = new_vals(&cv, ft->param_count);
    results = new_vals(&cv, ft->result_count);
    if (!args || !results) {
        rc = EOS_ENOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < ft->param_count; i++) {
        if (from_json(&cv, ft->params[i], params->u.array.values[i], &args[i]) < 0) {
            snprintf(msg, sizeof msg, "parameter %u%s%s: %s", i + 1,
                     ft->param_names && ft->param_names[i] ? " " : "",
                     ft->param_names && ft->param_names[i] ? ft->param_names[i] : "", cv.err);
            rc = eos_apps_error_doc("invalid_params", msg, out, out_size);
            goto out;
        }
    }
    eos_wasi_outcome oc;
    memset(&oc, 0, sizeof oc);
    rc = eos_wasi_call_cmd(a->wapp, func, cmd, args, ft->param_count, results, ft->result_count,
                           cv.arena, &oc);
    atomic_fetch_add(&a->fuel, oc.fuel_consumed);
    if (rc == EOS_TRAP_EXIT && oc.exited) {
        rc = answer_doc(ft, NULL, &oc, true, out, out_size);
        goto out;
    }
    if (rc < 0) {
        atomic_fetch_add(&a->errors, 1);
        snprintf(msg, sizeof msg, "%s failed: %s", func,
                 oc.reason[0] ? oc.reason : eos_strerror(rc));
        rc = eos_apps_error_doc(rc <= -1000 ? "trap" : "call_failed", msg, out, out_size);
        goto out;
    }
    rc = answer_doc(ft, results, &oc, false, out, out_size);
out:
    if (params)
        yajl_tree_free(params);
    eos_cm_arena_free(cv.arena);
    return rc;
}
