/* The instantiation plan, made once per module after validation: constant
 * segment offsets and global initialisers evaluated, exports hashed by name,
 * and memory 0's initialised image prepared for copy-on-write mapping, so
 * that instantiating only executes the plan. */
#include "internal.h"

static uint32_t name_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static int hash_exports(eos_wasm_module *m)
{
    uint32_t cap = 8;
    while (cap < m->export_count * 2u)
        cap *= 2;
    m->plan.export_slots = eos_calloc(cap, sizeof(uint32_t));
    if (!m->plan.export_slots)
        return EOS_ENOMEM;
    m->plan.export_mask = cap - 1;
    for (uint32_t k = 0; k < m->export_count; k++) {
        const eos_wasm__export *e = &m->exports[k];
        uint32_t at = name_hash(e->name, e->name_len) & m->plan.export_mask;
        while (m->plan.export_slots[at])
            at = (at + 1) & m->plan.export_mask;
        m->plan.export_slots[at] = k + 1;
    }
    return 0;
}

int64_t eos_wasm__export_find(const eos_wasm_module *m, const char *name, size_t len)
{
    if (!m->plan.export_slots)
        return -1;
    uint32_t at = name_hash(name, len) & m->plan.export_mask;
    for (uint32_t k; (k = m->plan.export_slots[at]) != 0; at = (at + 1) & m->plan.export_mask) {
        const eos_wasm__export *e = &m->exports[k - 1];
        if (e->name_len == len && memcmp(e->name, name, len) == 0)
            return k - 1;
    }
    return -1;
}

/* Memory 0 gets an image when it is the module's own and every active data
 * segment lands in its initial pages at a constant offset: then applying the
 * segments in order is the same as mapping their union. Returns the image's
 * extent in bytes, or 0 when there is none to make. */
static uint64_t image_extent(const eos_wasm_module *m)
{
    if (m->memory_import_count || !m->memory_count)
        return 0;
    /* 64-bit and custom-page memories are left to the segments: a huge
     * declared minimum would not fit the image anyway. */
    if (m->uses_mem64)
        return 0;
    uint64_t limit = m->memories[0].limits.min * EOS_WASM_PAGE_SIZE, end = 0;
    for (uint32_t k = 0; k < m->data_count; k++) {
        const eos_wasm__data *d = &m->datas[k];
        if (d->mode != EOS_WASM_SEG_ACTIVE)
            continue;
        uint64_t at = m->plan.data_off[k];
        if (d->memory != 0 || at == UINT64_MAX || at > limit || d->size > limit - at)
            return 0;
        if (at + d->size > end)
            end = at + d->size;
    }
    return end;
}

int eos_wasm__plan_build(eos_wasm_module *m)
{
    eos_wasm__plan *p = &m->plan;
    p->image.fd = -1;
    p->data_off = eos_calloc(m->data_count + 1, sizeof(uint64_t));
    p->elem_off = eos_calloc(m->elem_count + 1, sizeof(uint64_t));
    p->global_init = eos_calloc(m->global_count + 1, sizeof(uint64_t));
    p->global_const = eos_calloc(m->global_count + 1, 1);
    if (!p->data_off || !p->elem_off || !p->global_init || !p->global_const)
        return EOS_ENOMEM;
    /* Offsets are i32 values (or i64 for 64-bit memories) kept zero-extended:
     * UINT64_MAX marks "depends on an imported global", evaluated per instance. */
    for (uint32_t k = 0; k < m->data_count; k++) {
        uint64_t v = UINT64_MAX;
        if (m->datas[k].mode == EOS_WASM_SEG_ACTIVE &&
            eos_wasm__eval_const(m, &m->datas[k].offset, &v) != 0)
            v = UINT64_MAX;
        p->data_off[k] = v;
    }
    for (uint32_t k = 0; k < m->elem_count; k++) {
        uint64_t v = UINT64_MAX;
        if (m->elems[k].mode == EOS_WASM_SEG_ACTIVE &&
            eos_wasm__eval_const(m, &m->elems[k].offset, &v) != 0)
            v = UINT64_MAX;
        p->elem_off[k] = v;
    }
    for (uint32_t k = m->global_import_count; k < m->global_count; k++)
        p->global_const[k] = eos_wasm__eval_const(m, &m->globals[k].init, &p->global_init[k]) == 0;
    int rc = hash_exports(m);
    if (rc)
        return rc;
    uint64_t extent = image_extent(m);
    if (extent && (rc = eos_wasm__image_build(&p->image, m, extent)) != 0)
        return rc;
    p->has_image = extent != 0;
    if (!p->has_image)
        return 0;
    /* With an image every active data segment is dropped from the start:
     * instantiation copies these flags instead of walking the segments
     * (hello-js has 10,000 of them). */
    p->data_dropped = eos_calloc(m->data_count + 1, 1);
    if (!p->data_dropped)
        return EOS_ENOMEM;
    for (uint32_t k = 0; k < m->data_count; k++)
        p->data_dropped[k] = m->datas[k].mode == EOS_WASM_SEG_ACTIVE;
    return 0;
}

void eos_wasm__plan_free(eos_wasm_module *m)
{
    eos_wasm__plan *p = &m->plan;
    eos_wasm__spares_free(m);
    if (p->has_image)
        eos_wasm__image_free(&p->image);
    eos_free(p->data_off, 0);
    eos_free(p->elem_off, 0);
    eos_free(p->global_init, 0);
    eos_free(p->global_const, 0);
    eos_free(p->export_slots, 0);
    eos_free(p->data_dropped, 0);
    memset(p, 0, sizeof(*p));
}

/* ---- the module's own copy of its bytes ------------------------------------ */

typedef struct cut {
    eos_wasm__range r[2];
    uint32_t n;
} cut;

/* Where byte off of the input lands once the cut ranges are left out. */
static uint32_t cut_map(const cut *c, uint32_t off)
{
    uint32_t less = 0;
    for (uint32_t i = 0; i < c->n; i++)
        if (off >= c->r[i].end)
            less += c->r[i].end - c->r[i].off;
    return off - less;
}

static const char *cut_ptr(const cut *c, const uint8_t *from, uint8_t *to, const char *p)
{
    return p ? (const char *)to + cut_map(c, (uint32_t)((const uint8_t *)p - from)) : NULL;
}

static void cut_expr(const cut *c, eos_wasm__expr *e)
{
    e->off = cut_map(c, e->off);
}

int eos_wasm__keep_bytes(eos_wasm_module *m)
{
    cut c = {.n = 0};
    bool passive = false;
    for (uint32_t k = 0; k < m->data_count; k++)
        passive |= m->datas[k].mode == EOS_WASM_SEG_PASSIVE;
    /* Function bodies stay for lazy translation and for the compiled tier,
     * which reads them (in the background for tier auto). */
    bool keep_code = m->lazy || (m->features.tier != EOS_WASM_TIER_INTERP && eos_wasm_jit_available());
    if (!keep_code && m->code_sec.end > m->code_sec.off)
        c.r[c.n++] = m->code_sec;
    if (m->plan.has_image && !passive && m->data_sec.end > m->data_sec.off)
        c.r[c.n++] = m->data_sec;
    size_t kept = m->size;
    for (uint32_t i = 0; i < c.n; i++)
        kept -= c.r[i].end - c.r[i].off;
    uint8_t *to = eos_malloc(kept ? kept : 1), *from = m->bytes;
    if (!to)
        return EOS_ENOMEM;
    size_t at = 0, w = 0;
    for (uint32_t i = 0; i <= c.n; i++) {
        size_t until = i < c.n ? c.r[i].off : m->size;
        memcpy(to + w, from + at, until - at);
        w += until - at;
        at = i < c.n ? c.r[i].end : m->size;
    }
    for (uint32_t k = 0; k < m->import_count; k++) {
        m->imports[k].module = cut_ptr(&c, from, to, m->imports[k].module);
        m->imports[k].name = cut_ptr(&c, from, to, m->imports[k].name);
    }
    for (uint32_t k = 0; k < m->export_count; k++)
        m->exports[k].name = cut_ptr(&c, from, to, m->exports[k].name);
    for (uint32_t k = m->global_import_count; k < m->global_count; k++)
        cut_expr(&c, &m->globals[k].init);
    for (uint32_t k = 0; k < m->elem_count; k++) {
        cut_expr(&c, &m->elems[k].offset);
        for (uint32_t i = 0; m->elems[k].exprs && i < m->elems[k].count; i++)
            cut_expr(&c, &m->elems[k].exprs[i]);
    }
    /* Data left out belongs to active segments already in the image. */
    for (uint32_t k = 0; k < m->data_count; k++) {
        cut_expr(&c, &m->datas[k].offset);
        m->datas[k].off = cut_map(&c, m->datas[k].off);
    }
    /* Bodies left out are translated already; the others move. */
    for (uint32_t k = 0; k < m->code_count; k++) {
        if (keep_code)
            m->codes[k].body_off = cut_map(&c, m->codes[k].body_off);
        else
            m->codes[k].body_off = m->codes[k].body_size = 0;
    }
    m->bytes = to;
    m->size = kept;
    m->bytes_borrowed = false;
    return 0;
}

void eos_wasm_module_code_size(const eos_wasm_module *m, size_t *out_wasm_size,
                               size_t *out_internal_size)
{
    *out_wasm_size = m->code_sec.end - m->code_sec.off;
    *out_internal_size = (size_t)m->code_words * sizeof(uint32_t);
}
