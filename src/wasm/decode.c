/* Binary decoder: reads the sections of a module into eos_wasm_module,
 * checking the binary format (malformed input) and the index spaces and
 * constant expressions (invalid input). Function bodies are only located here;
 * validate.c type-checks and translates them. */
#include "internal.h"

#include <stdlib.h>

static int read_valtype(eos_wasm__rd *r, uint8_t *out)
{
    uint8_t b;
    if (eos_wasm__rd_byte(r, &b))
        return r->err;
    switch (b) {
    case EOS_WASM_I32:
    case EOS_WASM_I64:
    case EOS_WASM_F32:
    case EOS_WASM_F64:
    case EOS_WASM_FUNCREF:
    case EOS_WASM_EXTERNREF:
    case EOS_WASM_V128:
    case EOS_WASM_EXNREF:
        *out = b;
        return 0;
    case 0x63:
    case 0x64:
        return eos_wasm__read_reftype(r, r->mod, b, out);
    default:
        return eos_wasm__rd_fail(r, EOS_EMALFORMED, "malformed value type 0x%02x", b);
    }
}

static int read_reftype(eos_wasm__rd *r, uint8_t *out)
{
    uint8_t b;
    if (eos_wasm__rd_byte(r, &b))
        return r->err;
    if (b == 0x63 || b == 0x64)
        return eos_wasm__read_reftype(r, r->mod, b, out);
    if (b != EOS_WASM_FUNCREF && b != EOS_WASM_EXTERNREF)
        return eos_wasm__rd_fail(r, EOS_EMALFORMED, "malformed reference type 0x%02x", b);
    *out = b;
    return 0;
}

/* Limits (memory64, table64, custom page sizes): decode_mem64.c. */
static int read_tabletype(eos_wasm__rd *r, eos_wasm_module *m, eos_wasm_tabletype *t)
{
    if (read_reftype(r, &t->elem_type))
        return r->err;
    return eos_wasm__read_table_limits(r, m, &t->limits);
}

static int read_globaltype(eos_wasm__rd *r, eos_wasm_globaltype *g)
{
    uint8_t mut;
    if (read_valtype(r, &g->valtype) || eos_wasm__rd_byte(r, &mut))
        return r->err;
    if (mut > 1)
        return eos_wasm__rd_fail(r, EOS_EMALFORMED, "malformed mutability 0x%02x", mut);
    g->mutable_ = mut == 1;
    return 0;
}

/* Reads a name and checks it is well-formed UTF-8 (no overlongs, surrogates
 * or code points above U+10FFFF). */
static int read_name(eos_wasm__rd *r, const char **out, uint32_t *out_len)
{
    uint32_t len;
    if (eos_wasm__rd_u32(r, &len))
        return r->err;
    if ((size_t)(r->end - r->p) < len)
        return eos_wasm__rd_fail(r, EOS_EMALFORMED, "unexpected end: name longer than section");
    const uint8_t *s = r->p;
    for (uint32_t i = 0; i < len;) {
        uint8_t c = s[i];
        uint32_t n, cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return eos_wasm__rd_fail(r, EOS_EMALFORMED, "malformed UTF-8 encoding");
        }
        if (len - i - 1 < n)
            return eos_wasm__rd_fail(r, EOS_EMALFORMED, "malformed UTF-8 encoding");
        for (uint32_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return eos_wasm__rd_fail(r, EOS_EMALFORMED, "malformed UTF-8 encoding");
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return eos_wasm__rd_fail(r, EOS_EMALFORMED, "malformed UTF-8 encoding");
        i += n + 1;
    }
    *out = (const char *)s;
    *out_len = len;
    r->p += len;
    return 0;
}

/* Reads a count and allocates count elements of size bytes; the count is
 * bounded by the remaining bytes so a tiny input cannot ask for huge arrays. */
static int read_vec(eos_wasm__rd *r, uint32_t *count, size_t size, void **out)
{
    if (eos_wasm__rd_u32(r, count))
        return r->err;
    /* The count is only published with its array, so cleanup never walks a
     * count of elements that were not allocated. */
    uint32_t n = *count;
    *count = 0;
    *out = NULL;
    if (n > (size_t)(r->end - r->p))
        return eos_wasm__rd_fail(r, EOS_EMALFORMED, "unexpected end: count %u too large", n);
    if (n == 0)
        return 0;
    *out = eos_calloc(n, size);
    if (!*out)
        return eos_wasm__rd_fail(r, EOS_ENOMEM, "out of memory decoding a vector");
    *count = n;
    return 0;
}

/* Hash tables keep type canonicalisation and the duplicate-export check
 * linear: a module is untrusted and may hold hundreds of thousands of each. */
static uint32_t hash_bytes(uint32_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

static uint32_t *hash_table(uint32_t n, uint32_t *out_mask)
{
    uint32_t size = 16;
    while (size < 2 * (uint64_t)n)
        size *= 2;
    *out_mask = size - 1;
    return eos_calloc(size, sizeof(uint32_t));
}

static int canonicalize_types(eos_wasm__rd *r, eos_wasm_module *m)
{
    uint32_t mask;
    uint32_t *tab = hash_table(m->type_count, &mask);
    if (!tab)
        return eos_wasm__rd_fail(r, EOS_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < m->type_count; i++) {
        const eos_wasm_functype *t = &m->types[i];
        uint32_t h = hash_bytes(2166136261u, &t->param_count, sizeof(t->param_count));
        h = hash_bytes(h, t->params, t->param_count);
        h = hash_bytes(h, t->results, t->result_count);
        m->type_canon[i] = i;
        for (uint32_t k = h & mask;; k = (k + 1) & mask) {
            if (!tab[k]) {
                tab[k] = i + 1;
                break;
            }
            if (eos_wasm__functype_eq(&m->types[tab[k] - 1], t)) {
                m->type_canon[i] = tab[k] - 1;
                break;
            }
        }
    }
    eos_free(tab, ((size_t)mask + 1) * sizeof(uint32_t));
    return 0;
}

static int check_export_names(eos_wasm__rd *r, eos_wasm_module *m)
{
    uint32_t mask;
    uint32_t *tab = hash_table(m->export_count, &mask);
    if (!tab)
        return eos_wasm__rd_fail(r, EOS_ENOMEM, "out of memory");
    int rc = 0;
    for (uint32_t i = 0; i < m->export_count && rc == 0; i++) {
        const eos_wasm__export *e = &m->exports[i];
        uint32_t h = hash_bytes(2166136261u, e->name, e->name_len);
        for (uint32_t k = h & mask;; k = (k + 1) & mask) {
            if (!tab[k]) {
                tab[k] = i + 1;
                break;
            }
            const eos_wasm__export *o = &m->exports[tab[k] - 1];
            if (o->name_len == e->name_len && memcmp(o->name, e->name, e->name_len) == 0) {
                rc = eos_wasm__rd_fail(r, EOS_EINVALID, "duplicate export name \"%.*s\"",
                                       (int)(e->name_len > 64 ? 64 : e->name_len), e->name);
                break;
            }
        }
    }
    eos_free(tab, ((size_t)mask + 1) * sizeof(uint32_t));
    return rc;
}

static int decode_types(eos_wasm__rd *r, eos_wasm_module *m)
{
    if (read_vec(r, &m->type_count, sizeof(eos_wasm_functype), (void **)&m->types))
        return r->err;
    /* Each type's value types are at most the remaining section bytes. */
    size_t cap = (size_t)(r->end - r->p) + 1;
    m->type_vals = eos_malloc(cap);
    m->type_canon = eos_calloc(m->type_count ? m->type_count : 1, sizeof(uint32_t));
    if (!m->type_vals || !m->type_canon)
        return eos_wasm__rd_fail(r, EOS_ENOMEM, "out of memory decoding types");
    size_t used = 0;
    for (uint32_t i = 0; i < m->type_count; i++) {
        uint8_t form;
        uint32_t n;
        if (eos_wasm__rd_byte(r, &form))
            return r->err;
        if (form != 0x60)
            return eos_wasm__rd_fail(r, EOS_EMALFORMED, "malformed function type 0x%02x", form);
        eos_wasm_functype *t = &m->types[i];
        for (int pass = 0; pass < 2; pass++) {
            if (eos_wasm__rd_u32(r, &n))
                return r->err;
            if (n > cap - used)
                return eos_wasm__rd_fail(r, EOS_EMALFORMED, "unexpected end of types");
            uint8_t *vals = m->type_vals + used;
            for (uint32_t k = 0; k < n; k++)
                if (read_valtype(r, &vals[k]))
                    return r->err;
            used += n;
            if (pass == 0) {
                t->params = vals;
                t->param_count = n;
            } else {
                t->results = vals;
                t->result_count = n;
            }
        }
    }
    if (canonicalize_types(r, m))
        return r->err;
    return eos_wasm__ref_public_types(r, m);
}

static int decode_imports(eos_wasm__rd *r, eos_wasm_module *m)
{
    if (read_vec(r, &m->import_count, sizeof(eos_wasm__import), (void **)&m->imports))
        return r->err;
    for (uint32_t i = 0; i < m->import_count; i++) {
        eos_wasm__import *im = &m->imports[i];
        uint8_t kind;
        if (read_name(r, &im->module, &im->module_len) || read_name(r, &im->name, &im->name_len) ||
            eos_wasm__rd_byte(r, &kind))
            return r->err;
        im->kind = kind;
        switch (kind) {
        case EOS_WASM_EXTERN_FUNC:
            if (eos_wasm__rd_u32(r, &im->type_index))
                return r->err;
            if (im->type_index >= m->type_count)
                return eos_wasm__rd_fail(r, EOS_EINVALID, "unknown type %u", im->type_index);
            m->func_import_count++;
            break;
        case EOS_WASM_EXTERN_TABLE:
            if (read_tabletype(r, m, &im->table))
                return r->err;
            m->table_import_count++;
            break;
        case EOS_WASM_EXTERN_MEMORY:
            if (eos_wasm__read_memtype(r, m, &im->memory))
                return r->err;
            m->memory_import_count++;
            break;
        case EOS_WASM_EXTERN_GLOBAL:
            if (read_globaltype(r, &im->global))
                return r->err;
            m->global_import_count++;
            break;
        case EOS_WASM_EXTERN_TAG:
            if (eos_wasm__read_tagtype(r, m, &im->type_index))
                return r->err;
            m->tag_import_count++;
            break;
        default:
            return eos_wasm__rd_fail(r, EOS_EMALFORMED, "malformed import kind %u", kind);
        }
    }
    return 0;
}

/* Grows an index space array from the imported part to imported + n. */
static int grow_space(eos_wasm__rd *r, void **arr, uint32_t imported, uint32_t n, size_t size)
{
    if (n > (size_t)(r->end - r->p))
        return eos_wasm__rd_fail(r, EOS_EMALFORMED, "unexpected end: count %u too large", n);
    uint64_t total = (uint64_t)imported + n;
    if (total > UINT32_MAX / 2)
        return eos_wasm__rd_fail(r, EOS_ELIMIT, "too many definitions");
    void *p = eos_calloc(total ? total : 1, size);
    if (!p)
        return eos_wasm__rd_fail(r, EOS_ENOMEM, "out of memory");
    if (*arr && imported)
        memcpy(p, *arr, imported * size);
    eos_free(*arr, 0);
    *arr = p;
    return 0;
}

/* Fills the imported part of each index space once the import section is read. */
static int init_spaces(eos_wasm__rd *r, eos_wasm_module *m)
{
    m->func_types = eos_calloc(m->func_import_count + 1, sizeof(uint32_t));
    m->tables = eos_calloc(m->table_import_count + 1, sizeof(eos_wasm_tabletype));
    m->memories = eos_calloc(m->memory_import_count + 1, sizeof(eos_wasm_memorytype));
    m->globals = eos_calloc(m->global_import_count + 1, sizeof(eos_wasm__global));
    if (!m->func_types || !m->tables || !m->memories || !m->globals)
        return eos_wasm__rd_fail(r, EOS_ENOMEM, "out of memory");
    uint32_t f = 0, t = 0, mm = 0, g = 0;
    for (uint32_t i = 0; i < m->import_count; i++) {
        const eos_wasm__import *im = &m->imports[i];
        switch (im->kind) {
        case EOS_WASM_EXTERN_FUNC:
            m->func_types[f++] = im->type_index;
            break;
        case EOS_WASM_EXTERN_TABLE:
            m->tables[t++] = im->table;
            break;
        case EOS_WASM_EXTERN_MEMORY:
            m->memories[mm++] = im->memory;
            break;
        case EOS_WASM_EXTERN_TAG:
            break;
        default:
            m->globals[g++].type = im->global;
            break;
        }
    }
    m->func_count = f;
    m->table_count = t;
    m->memory_count = mm;
    m->global_count = g;
    return eos_wasm__tag_spaces(r, m);
}

static int decode_functions(eos_wasm__rd *r, eos_wasm_module *m)
{
    uint32_t n;
    if (eos_wasm__rd_u32(r, &n) ||
        grow_space(r, (void **)&m->func_types, m->func_import_count, n, sizeof(uint32_t)))
        return r->err;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t;
        if (eos_wasm__rd_u32(r, &t))
            return r->err;
        if (t >= m->type_count)
            return eos_wasm__rd_fail(r, EOS_EINVALID, "unknown type %u", t);
        m->func_types[m->func_count++] = t;
    }
    return 0;
}

static uint32_t const_globals(const eos_wasm_module *m);

static int decode_tables(eos_wasm__rd *r, eos_wasm_module *m)
{
    uint32_t n;
    if (eos_wasm__rd_u32(r, &n) ||
        grow_space(r, (void **)&m->tables, m->table_import_count, n, sizeof(eos_wasm_tabletype)))
        return r->err;
    m->table_inits = eos_calloc(m->table_count + n + 1, sizeof(eos_wasm__expr));
    if (!m->table_inits)
        return eos_wasm__rd_fail(r, EOS_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        /* 0x40 0x00: a table with an initializer expression. */
        bool has_init = r->p < r->end && *r->p == 0x40;
        if (has_init) {
            uint8_t zero;
            r->p++;
            if (eos_wasm__rd_byte(r, &zero))
                return r->err;
            if (zero != 0)
                return eos_wasm__rd_fail(r, EOS_EMALFORMED, "malformed table type");
        }
        eos_wasm_tabletype *t = &m->tables[m->table_count];
        if (read_tabletype(r, m, t))
            return r->err;
        if (has_init && eos_wasm__read_expr(r, m, &m->table_inits[m->table_count], t->elem_type,
                                            const_globals(m)))
            return r->err;
        if (!has_init && !eos_wasm__defaultable(m, t->elem_type))
            return eos_wasm__rd_fail(r, EOS_EINVALID,
                                     "type mismatch: a table of non-null references needs an "
                                     "initializer");
        m->table_count++;
    }
    return 0;
}

static int decode_memories(eos_wasm__rd *r, eos_wasm_module *m)
{
    uint32_t n;
    if (eos_wasm__rd_u32(r, &n) || grow_space(r, (void **)&m->memories, m->memory_import_count, n,
                                              sizeof(eos_wasm_memorytype)))
        return r->err;
    for (uint32_t i = 0; i < n; i++)
        if (eos_wasm__read_memtype(r, m, &m->memories[m->memory_count++]))
            return r->err;
    if (m->memory_count > 1 && m->features.disable_multi_memory)
        return eos_wasm__rd_fail(r, EOS_EINVALID, "multiple memories");
    return 0;
}

/* Constant expressions may read any immutable global defined before them
 * (WebAssembly 3.0; 2.0 allowed imported ones only): a global's initializer
 * sees the globals before it, segments see them all. */
static uint32_t const_globals(const eos_wasm_module *m)
{
    return m->features.wasm2_const_globals ? m->global_import_count : m->global_count;
}

static int decode_globals(eos_wasm__rd *r, eos_wasm_module *m)
{
    uint32_t n;
    if (eos_wasm__rd_u32(r, &n) ||
        grow_space(r, (void **)&m->globals, m->global_import_count, n, sizeof(eos_wasm__global)))
        return r->err;
    for (uint32_t i = 0; i < n; i++) {
        eos_wasm__global *g = &m->globals[m->global_count];
        if (read_globaltype(r, &g->type) ||
            eos_wasm__read_expr(r, m, &g->init, g->type.valtype, const_globals(m)))
            return r->err;
        m->global_count++;
    }
    return 0;
}

static int decode_exports(eos_wasm__rd *r, eos_wasm_module *m)
{
    if (read_vec(r, &m->export_count, sizeof(eos_wasm__export), (void **)&m->exports))
        return r->err;
    for (uint32_t i = 0; i < m->export_count; i++) {
        eos_wasm__export *e = &m->exports[i];
        uint8_t kind;
        if (read_name(r, &e->name, &e->name_len) || eos_wasm__rd_byte(r, &kind) ||
            eos_wasm__rd_u32(r, &e->index))
            return r->err;
        e->kind = kind;
        uint32_t limit;
        switch (kind) {
        case EOS_WASM_EXTERN_FUNC:
            limit = m->func_count;
            break;
        case EOS_WASM_EXTERN_TABLE:
            limit = m->table_count;
            break;
        case EOS_WASM_EXTERN_MEMORY:
            limit = m->memory_count;
            break;
        case EOS_WASM_EXTERN_GLOBAL:
            limit = m->global_count;
            break;
        case EOS_WASM_EXTERN_TAG:
            limit = m->tag_count;
            break;
        default:
            return eos_wasm__rd_fail(r, EOS_EMALFORMED, "malformed export kind %u", kind);
        }
        if (e->index >= limit)
            return eos_wasm__rd_fail(r, EOS_EINVALID, "unknown %s %u in export",
                                     kind == 0   ? "function"
                                     : kind == 1 ? "table"
                                     : kind == 2 ? "memory"
                                     : kind == 3 ? "global"
                                                 : "tag",
                                     e->index);
        if (kind == EOS_WASM_EXTERN_FUNC)
            m->func_declared[e->index] = 1;
    }
    return check_export_names(r, m);
}

static int decode_start(eos_wasm__rd *r, eos_wasm_module *m)
{
    uint32_t f;
    if (eos_wasm__rd_u32(r, &f))
        return r->err;
    if (f >= m->func_count)
        return eos_wasm__rd_fail(r, EOS_EINVALID, "unknown function %u as start function", f);
    const eos_wasm_functype *t = &m->types[m->func_types[f]];
    if (t->param_count || t->result_count)
        return eos_wasm__rd_fail(r, EOS_EINVALID, "start function must have type [] -> []");
    m->start = f;
    return 0;
}

static int read_funcidx(eos_wasm__rd *r, eos_wasm_module *m, uint32_t *out)
{
    if (eos_wasm__rd_u32(r, out))
        return r->err;
    if (*out >= m->func_count)
        return eos_wasm__rd_fail(r, EOS_EINVALID, "unknown function %u", *out);
    m->func_declared[*out] = 1;
    return 0;
}

static int decode_elem(eos_wasm__rd *r, eos_wasm_module *m, eos_wasm__elem *e)
{
    uint32_t flags;
    if (eos_wasm__rd_u32(r, &flags))
        return r->err;
    if (flags > 7)
        return eos_wasm__rd_fail(r, EOS_EMALFORMED, "malformed elements segment kind %u", flags);
    e->elem_type = EOS_WASM_FUNCREF;
    e->mode = (flags & 1) ? ((flags & 2) ? EOS_WASM_SEG_DECLARATIVE : EOS_WASM_SEG_PASSIVE)
                          : EOS_WASM_SEG_ACTIVE;
    if (e->mode == EOS_WASM_SEG_ACTIVE) {
        if ((flags & 2) && eos_wasm__rd_u32(r, &e->table))
            return r->err;
        if (e->table >= m->table_count)
            return eos_wasm__rd_fail(r, EOS_EINVALID, "unknown table %u", e->table);
        if (eos_wasm__read_expr(r, m, &e->offset, eos_wasm__table_at(m, e->table),
                                const_globals(m)))
            return r->err;
    }
    bool exprs = flags & 4;
    if (flags & 3) {
        if (exprs) {
            if (read_reftype(r, &e->elem_type))
                return r->err;
        } else {
            uint8_t kind;
            if (eos_wasm__rd_byte(r, &kind))
                return r->err;
            if (kind != 0)
                return eos_wasm__rd_fail(r, EOS_EMALFORMED, "malformed element kind %u", kind);
        }
    }
    if (exprs) {
        if (read_vec(r, &e->count, sizeof(eos_wasm__expr), (void **)&e->exprs))
            return r->err;
        for (uint32_t i = 0; i < e->count; i++)
            if (eos_wasm__read_expr(r, m, &e->exprs[i], e->elem_type, const_globals(m)))
                return r->err;
    } else {
        /* Function indices are never null: the segment is of (ref func). */
        if (eos_wasm__ref_intern(m, EOS_WASM__HT_FUNC, false, &e->elem_type))
            return eos_wasm__rd_fail(r, EOS_ENOMEM, "out of memory");
        if (read_vec(r, &e->count, sizeof(uint32_t), (void **)&e->funcs))
            return r->err;
        for (uint32_t i = 0; i < e->count; i++)
            if (read_funcidx(r, m, &e->funcs[i]))
                return r->err;
    }
    if (e->mode == EOS_WASM_SEG_ACTIVE &&
        !eos_wasm__val_sub(m, e->elem_type, m->tables[e->table].elem_type))
        return eos_wasm__rd_fail(r, EOS_EINVALID, "type mismatch: element segment type");
    return 0;
}

static int decode_elems(eos_wasm__rd *r, eos_wasm_module *m)
{
    if (read_vec(r, &m->elem_count, sizeof(eos_wasm__elem), (void **)&m->elems))
        return r->err;
    for (uint32_t i = 0; i < m->elem_count; i++) {
        r->index = i;
        if (decode_elem(r, m, &m->elems[i]))
            return r->err;
    }
    r->index = -1;
    return 0;
}

static int decode_datas(eos_wasm__rd *r, eos_wasm_module *m)
{
    uint32_t n;
    if (eos_wasm__rd_u32(r, &n))
        return r->err;
    if (m->has_data_count && n != m->data_count)
        return eos_wasm__rd_fail(r, EOS_EMALFORMED,
                                 "data count and data section have inconsistent lengths");
    if (!m->has_data_count) {
        eos_wasm__data *d = NULL;
        if (n > (size_t)(r->end - r->p))
            return eos_wasm__rd_fail(r, EOS_EMALFORMED, "unexpected end: data count");
        if (n && !(d = eos_calloc(n, sizeof(*d))))
            return eos_wasm__rd_fail(r, EOS_ENOMEM, "out of memory");
        m->datas = d;
        m->data_count = n;
    }
    for (uint32_t i = 0; i < n; i++) {
        eos_wasm__data *d = &m->datas[i];
        uint32_t flags, size;
        r->index = i;
        if (eos_wasm__rd_u32(r, &flags))
            return r->err;
        if (flags > 2)
            return eos_wasm__rd_fail(r, EOS_EMALFORMED, "malformed data segment kind %u", flags);
        d->mode = flags == 1 ? EOS_WASM_SEG_PASSIVE : EOS_WASM_SEG_ACTIVE;
        if (flags == 2 && eos_wasm__rd_u32(r, &d->memory))
            return r->err;
        if (d->mode == EOS_WASM_SEG_ACTIVE) {
            if (d->memory >= m->memory_count)
                return eos_wasm__rd_fail(r, EOS_EINVALID, "unknown memory %u", d->memory);
            if (eos_wasm__read_expr(r, m, &d->offset, eos_wasm__mem_at(m, d->memory),
                                    const_globals(m)))
                return r->err;
        }
        if (eos_wasm__rd_u32(r, &size))
            return r->err;
        if (size > (size_t)(r->end - r->p))
            return eos_wasm__rd_fail(r, EOS_EMALFORMED, "unexpected end of data segment");
        d->off = (uint32_t)(r->p - r->base);
        d->size = size;
        r->p += size;
    }
    r->index = -1;
    return 0;
}

static int decode_codes(eos_wasm__rd *r, eos_wasm_module *m)
{
    uint32_t n;
    if (eos_wasm__rd_u32(r, &n))
        return r->err;
    if (n != m->func_count - m->func_import_count)
        return eos_wasm__rd_fail(r, EOS_EMALFORMED,
                                 "function and code section have inconsistent lengths");
    if (n && !(m->codes = eos_calloc(n, sizeof(eos_wasm__code))))
        return eos_wasm__rd_fail(r, EOS_ENOMEM, "out of memory");
    m->code_count = n;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t size;
        r->index = (int64_t)m->func_import_count + i;
        if (eos_wasm__rd_u32(r, &size))
            return r->err;
        if (size > (size_t)(r->end - r->p))
            return eos_wasm__rd_fail(r, EOS_EMALFORMED, "unexpected end of function body");
        eos_wasm__code *c = &m->codes[i];
        c->type_index = m->func_types[m->func_import_count + i];
        c->body_off = (uint32_t)(r->p - r->base);
        c->body_size = size;
        r->p += size;
    }
    r->index = -1;
    return 0;
}

static int decode_section(eos_wasm__rd *r, eos_wasm_module *m, uint8_t id)
{
    switch (id) {
    case 1:
        return decode_types(r, m);
    case 2:
        return decode_imports(r, m);
    case 3:
        return decode_functions(r, m);
    case 4:
        return decode_tables(r, m);
    case 5:
        return decode_memories(r, m);
    case 6:
        return decode_globals(r, m);
    case 7:
        return decode_exports(r, m);
    case 8:
        return decode_start(r, m);
    case 9:
        return decode_elems(r, m);
    case 10:
        return decode_codes(r, m);
    case 11:
        return decode_datas(r, m);
    case 12:
        if (eos_wasm__rd_u32(r, &m->data_count))
            return r->err;
        if (m->data_count > m->size)
            return eos_wasm__rd_fail(r, EOS_EMALFORMED, "data count too large");
        m->has_data_count = true;
        if (m->data_count && !(m->datas = eos_calloc(m->data_count, sizeof(eos_wasm__data))))
            return eos_wasm__rd_fail(r, EOS_ENOMEM, "out of memory");
        return 0;
    case 13:
        return eos_wasm__decode_tags(r, m);
    default:
        return 0;
    }
}

static const char *const section_names[] = {
    "custom section", "type section",   "import section",     "function section", "table section",
    "memory section", "global section", "export section",     "start section",    "element section",
    "code section",   "data section",   "data count section", "tag section",
};

/* Position of each section id in the required order (custom sections aside):
 * tags (13) come between memories and globals. */
static const uint8_t section_rank[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 11, 6};

int eos_wasm__decode(eos_wasm_module *m, eos_diag *diag)
{
    eos_wasm__rd r;
    eos_wasm__rd_init(&r, m->bytes, m->size, diag);
    r.mod = m;
    r.section = "module header";
    static const uint8_t magic[4] = {0, 'a', 's', 'm'};
    if (m->size < 4 || memcmp(m->bytes, magic, 4) != 0)
        return eos_wasm__rd_fail(&r, EOS_EMALFORMED, "magic header not detected");
    if (m->size < 8)
        return eos_wasm__rd_fail(&r, EOS_EMALFORMED, "unexpected end: no binary version");
    static const uint8_t version[4] = {1, 0, 0, 0};
    if (memcmp(m->bytes + 4, version, 4) != 0)
        return eos_wasm__rd_fail(&r, EOS_EMALFORMED, "unknown binary version");
    r.p += 8;
    int last_rank = 0;
    bool spaces_ready = false;
    while (r.p < r.end) {
        uint8_t id;
        uint32_t size;
        r.section = "module";
        if (eos_wasm__rd_byte(&r, &id))
            return r.err;
        if (id > 13)
            return eos_wasm__rd_fail(&r, EOS_EMALFORMED, "malformed section id %u", id);
        r.section = section_names[id];
        if (eos_wasm__rd_u32(&r, &size))
            return r.err;
        if (size > (size_t)(r.end - r.p))
            return eos_wasm__rd_fail(&r, EOS_EMALFORMED,
                                     "unexpected end: section size %u beyond the input", size);
        const uint8_t *section_end = r.p + size;
        /* Where the code and data sections lie, so the module's copy of its
         * bytes can leave them out once they are translated or imaged. */
        if (id == 10 || id == 11) {
            eos_wasm__range *sec = id == 10 ? &m->code_sec : &m->data_sec;
            sec->off = (uint32_t)(r.p - r.base);
            sec->end = (uint32_t)(section_end - r.base);
        }
        if (id != 0) {
            if (section_rank[id] <= last_rank)
                return eos_wasm__rd_fail(&r, EOS_EMALFORMED,
                                         "unexpected content after last "
                                         "section, or section out of order (id %u)",
                                         id);
            last_rank = section_rank[id];
            if (id > 2 && !spaces_ready) {
                if (init_spaces(&r, m))
                    return r.err;
                spaces_ready = true;
            }
            if (section_rank[id] > 3) {
                if (!m->func_declared && !(m->func_declared = eos_calloc(m->func_count + 1, 1)))
                    return eos_wasm__rd_fail(&r, EOS_ENOMEM, "out of memory");
            }
        }
        const uint8_t *saved_end = r.end;
        r.end = section_end;
        if (id == 0) {
            const char *name;
            uint32_t len;
            if (read_name(&r, &name, &len))
                return r.err;
            r.p = section_end;
        } else if (decode_section(&r, m, id)) {
            return r.err;
        }
        if (r.p != section_end)
            return eos_wasm__rd_fail(&r, EOS_EMALFORMED, "section size mismatch");
        r.end = saved_end;
    }
    if (!spaces_ready && init_spaces(&r, m))
        return r.err;
    if (!m->func_declared && !(m->func_declared = eos_calloc(m->func_count + 1, 1)))
        return eos_wasm__rd_fail(&r, EOS_ENOMEM, "out of memory");
    r.section = "module";
    if (m->code_count != m->func_count - m->func_import_count)
        return eos_wasm__rd_fail(&r, EOS_EMALFORMED,
                                 "function and code section have inconsistent lengths");
    if (m->has_data_count && last_rank < section_rank[11] && m->data_count != 0)
        return eos_wasm__rd_fail(&r, EOS_EMALFORMED,
                                 "data count and data section have inconsistent lengths");
    if (m->memory_count > 1 && m->features.disable_multi_memory)
        return eos_wasm__rd_fail(&r, EOS_EINVALID, "multiple memories");
    if (m->table_count > 1 && m->features.disable_multi_table)
        return eos_wasm__rd_fail(&r, EOS_EINVALID, "multiple tables");
    return 0;
}
