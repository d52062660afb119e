/* wasi:http/types fields: header maps with RFC 9110 name and value checks,
 * the headers a guest may not set (connection management and framing are
 * the server's), and immutable views handed out by requests and responses. */
#include <string.h>
#include <strings.h>

#include "internal.h"

/* Framing and hop-by-hop headers: the server owns them, as wasmtime and Spin do. */
static const char *const forbidden[] = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "host",
    "http2-settings",
};

static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int eos_wasi__field_name_check(const char *name, size_t size)
{
    if (size == 0 || size > 8192)
        return EOS_WASI__HDR_INVALID;
    for (size_t i = 0; i < size; i++)
        if (!is_tchar((unsigned char)name[i]))
            return EOS_WASI__HDR_INVALID;
    for (size_t i = 0; i < EOS_ARRAY_LEN(forbidden); i++)
        if (strlen(forbidden[i]) == size && strncasecmp(forbidden[i], name, size) == 0)
            return EOS_WASI__HDR_FORBIDDEN;
    return 0;
}

bool eos_wasi__field_value_valid(const uint8_t *v, size_t size)
{
    /* field-value = *( VCHAR / obs-text / SP / HTAB ): no CR, LF, NUL or other
     * controls, which would split or smuggle a header. */
    for (size_t i = 0; i < size; i++) {
        uint8_t c = v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

eos_wasi__fields *eos_wasi__fields_new(void)
{
    return eos_calloc(1, sizeof(eos_wasi__fields));
}

static void field_clear(eos_wasi__field *f)
{
    eos_free(f->name, f->name_size + 1);
    eos_free(f->value, f->value_size + 1);
}

void eos_wasi__fields_free(eos_wasi__fields *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->len; i++)
        field_clear(&f->items[i]);
    eos_free(f->items, f->cap * sizeof(*f->items));
    eos_free(f, sizeof(*f));
}

int eos_wasi__fields_push(eos_wasi__fields *f, const char *name, size_t name_size,
                          const uint8_t *value, size_t value_size)
{
    if (f->len == f->cap) {
        size_t ncap = f->cap ? f->cap * 2 : 8;
        eos_wasi__field *n = eos_realloc(f->items, f->cap * sizeof(*n), ncap * sizeof(*n));
        if (!n)
            return EOS_ENOMEM;
        f->items = n;
        f->cap = ncap;
    }
    eos_wasi__field *it = &f->items[f->len];
    it->name = eos_malloc(name_size + 1);
    it->value = eos_malloc(value_size + 1);
    if (!it->name || !it->value) {
        eos_free(it->name, name_size + 1);
        eos_free(it->value, value_size + 1);
        return EOS_ENOMEM;
    }
    for (size_t i = 0; i < name_size; i++) {
        char c = name[i];
        it->name[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    it->name[name_size] = 0;
    if (value_size)
        memcpy(it->value, value, value_size);
    it->value[value_size] = 0;
    it->name_size = name_size;
    it->value_size = value_size;
    f->len++;
    return 0;
}

eos_wasi__fields *eos_wasi__fields_clone(const eos_wasi__fields *f, bool immutable)
{
    eos_wasi__fields *c = eos_wasi__fields_new();
    if (!c)
        return NULL;
    for (size_t i = 0; f && i < f->len; i++) {
        const eos_wasi__field *it = &f->items[i];
        if (eos_wasi__fields_push(c, it->name, it->name_size, it->value, it->value_size)) {
            eos_wasi__fields_free(c);
            return NULL;
        }
    }
    c->immutable = immutable;
    return c;
}

static bool name_eq(const eos_wasi__field *it, const char *name, size_t size)
{
    return it->name_size == size && strncasecmp(it->name, name, size) == 0;
}

int eos_wasi__fields_append(eos_wasi__fields *f, const char *name, size_t name_size,
                            const uint8_t *value, size_t value_size)
{
    if (f->immutable)
        return EOS_WASI__HDR_IMMUTABLE;
    int rc = eos_wasi__field_name_check(name, name_size);
    if (rc)
        return rc;
    if (!eos_wasi__field_value_valid(value, value_size))
        return EOS_WASI__HDR_INVALID;
    return eos_wasi__fields_push(f, name, name_size, value, value_size);
}

int eos_wasi__fields_delete(eos_wasi__fields *f, const char *name, size_t name_size)
{
    if (f->immutable)
        return EOS_WASI__HDR_IMMUTABLE;
    int rc = eos_wasi__field_name_check(name, name_size);
    if (rc)
        return rc;
    size_t k = 0;
    for (size_t i = 0; i < f->len; i++) {
        if (name_eq(&f->items[i], name, name_size))
            field_clear(&f->items[i]);
        else
            f->items[k++] = f->items[i];
    }
    f->len = k;
    return 0;
}

bool eos_wasi__fields_has(const eos_wasi__fields *f, const char *name, size_t name_size)
{
    for (size_t i = 0; i < f->len; i++)
        if (name_eq(&f->items[i], name, name_size))
            return true;
    return false;
}

/* ---- Host functions ---- */

/* result<_, header-error> from a mutation's return code. */
static int header_result(eos_wasi__ctx *ctx, eos_cm_val *res, int rc)
{
    if (rc < 0)
        return rc;
    return rc ? eos_wasi__err_case(ctx, res, (uint32_t)rc - 1) : eos_wasi__ok(res, NULL);
}

static int fields_new(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    return eos_wasi__ret_handle(&results[0],
                                eos_wasi__res_new(ctx, EOS_WASI__R_FIELDS, eos_wasi__fields_new()));
}

static int fields_from_list(eos_cm_call *call, void *ud, const eos_cm_val *args,
                            eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    eos_wasi__fields *f = eos_wasi__fields_new();
    if (!f)
        return EOS_ENOMEM;
    for (size_t i = 0; i < args[0].of.list.len; i++) {
        const eos_cm_val *t = args[0].of.list.items[i].of.list.items;
        int rc = eos_wasi__fields_append(f, t[0].of.str.ptr, t[0].of.str.len, t[1].of.list.bytes,
                                         t[1].of.list.len);
        if (rc) {
            eos_wasi__fields_free(f);
            return header_result(ctx, &results[0], rc);
        }
    }
    return eos_wasi__ok_handle(ctx, &results[0], eos_wasi__res_new(ctx, EOS_WASI__R_FIELDS, f));
}

static int fields_get(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, eos_wasi__fields, f, EOS_WASI__R_FIELDS);
    const char *name = args[1].of.str.ptr;
    size_t size = args[1].of.str.len;
    size_t n = 0;
    for (size_t i = 0; i < f->len; i++)
        n += name_eq(&f->items[i], name, size);
    eos_cm_val *items = eos_wasi__val_new(ctx, n);
    if (!items)
        return EOS_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < f->len; i++)
        if (name_eq(&f->items[i], name, size) &&
            !eos_wasi__val_bytes(ctx, &items[k++], f->items[i].value, f->items[i].value_size))
            return EOS_ENOMEM;
    results[0].of.list.items = items;
    results[0].of.list.len = n;
    return 0;
}

static int fields_has(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, eos_wasi__fields, f, EOS_WASI__R_FIELDS);
    results[0].of.b = eos_wasi__fields_has(f, args[1].of.str.ptr, args[1].of.str.len);
    return 0;
}

static int fields_set(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, eos_wasi__fields, f, EOS_WASI__R_FIELDS);
    const char *name = args[1].of.str.ptr;
    size_t size = args[1].of.str.len;
    /* Validate everything first so a refused set changes nothing. */
    int rc = f->immutable ? EOS_WASI__HDR_IMMUTABLE : eos_wasi__field_name_check(name, size);
    for (size_t i = 0; !rc && i < args[2].of.list.len; i++)
        if (!eos_wasi__field_value_valid(args[2].of.list.items[i].of.list.bytes,
                                         args[2].of.list.items[i].of.list.len))
            rc = EOS_WASI__HDR_INVALID;
    if (!rc)
        rc = eos_wasi__fields_delete(f, name, size);
    for (size_t i = 0; !rc && i < args[2].of.list.len; i++)
        rc = eos_wasi__fields_append(f, name, size, args[2].of.list.items[i].of.list.bytes,
                                     args[2].of.list.items[i].of.list.len);
    return header_result(ctx, &results[0], rc);
}

static int fields_delete(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, eos_wasi__fields, f, EOS_WASI__R_FIELDS);
    return header_result(ctx, &results[0],
                         eos_wasi__fields_delete(f, args[1].of.str.ptr, args[1].of.str.len));
}

static int fields_append(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, eos_wasi__fields, f, EOS_WASI__R_FIELDS);
    return header_result(ctx, &results[0],
                         eos_wasi__fields_append(f, args[1].of.str.ptr, args[1].of.str.len,
                                                 args[2].of.list.bytes, args[2].of.list.len));
}

static int fields_entries(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, eos_wasi__fields, f, EOS_WASI__R_FIELDS);
    eos_cm_val *items = eos_wasi__val_new(ctx, f->len);
    eos_cm_val *pairs = eos_wasi__val_new(ctx, 2 * f->len);
    if (!items || !pairs)
        return EOS_ENOMEM;
    for (size_t i = 0; i < f->len; i++) {
        eos_cm_val *p = &pairs[2 * i];
        /* Guest memory receives copies at lowering; pointing at the fields
         * themselves is safe because nothing runs in between. */
        p[0].of.str.ptr = f->items[i].name;
        p[0].of.str.len = f->items[i].name_size;
        p[1].of.list.bytes = f->items[i].value;
        p[1].of.list.len = f->items[i].value_size;
        items[i].of.list.items = p;
        items[i].of.list.len = 2;
    }
    results[0].of.list.items = items;
    results[0].of.list.len = f->len;
    return 0;
}

static int fields_clone(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, eos_wasi__fields, f, EOS_WASI__R_FIELDS);
    /* A clone is always mutable, whatever the original. */
    return eos_wasi__ret_handle(
        &results[0], eos_wasi__res_new(ctx, EOS_WASI__R_FIELDS, eos_wasi__fields_clone(f, false)));
}

#define SELF "self: borrow<fields>"
const eos_cm_host_func eos_wasi__fields_funcs[] = {
    {"[constructor]fields", "func() -> fields", fields_new},
    {"[static]fields.from-list",
     "func(entries: list<tuple<string, list<u8>>>) -> result<fields, header-error>",
     fields_from_list},
    {"[method]fields.get", "func(" SELF ", name: string) -> list<list<u8>>", fields_get},
    {"[method]fields.has", "func(" SELF ", name: string) -> bool", fields_has},
    {"[method]fields.set",
     "func(" SELF ", name: string, value: list<list<u8>>) -> result<_, header-error>", fields_set},
    {"[method]fields.delete", "func(" SELF ", name: string) -> result<_, header-error>",
     fields_delete},
    {"[method]fields.append",
     "func(" SELF ", name: string, value: list<u8>) -> result<_, header-error>", fields_append},
    {"[method]fields.entries", "func(" SELF ") -> list<tuple<string, list<u8>>>", fields_entries},
    {"[method]fields.clone", "func(" SELF ") -> fields", fields_clone},
};
const size_t eos_wasi__fields_func_count = EOS_ARRAY_LEN(eos_wasi__fields_funcs);
#undef SELF
