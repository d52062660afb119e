/* Introspection of a component's imports and exports, and the WIT-like
 * description `enclave-os inspect` prints (with the size and SHA-256 of the
 * exact bytes, which is the app's code hash). */
#include <openssl/sha.h>
#include <string.h>

#include "internal.h"

static void fill(const char *name, uint8_t sort, const eos_cm__typedef *t, eos_cm_item_desc *out)
{
    memset(out, 0, sizeof(*out));
    out->name = name;
    out->kind = eos_cm__item_kind(sort);
    if (t->kind == EOS_CM__T_FUNC)
        out->func = t->of.func;
    if (t->kind == EOS_CM__T_INSTANCE && t->of.inst)
        out->member_count = t->of.inst->export_count;
}

static void tier_sum(const eos_cm_component *c, eos_wasm_tier_info *out, bool *any)
{
    for (uint32_t i = 0; i < c->module_count; i++) {
        eos_wasm_tier_info t;
        eos_wasm_module_tier_info(c->modules[i], &t);
        if (!*any) {
            out->requested = t.requested;
            out->state = t.state;
            out->from_cache = t.from_cache;
            *any = true;
        } else if (t.state == EOS_WASM_COMPILE_PENDING || out->state == EOS_WASM_COMPILE_PENDING) {
            out->state = EOS_WASM_COMPILE_PENDING;
        } else if (t.state == EOS_WASM_COMPILE_WARMING || out->state == EOS_WASM_COMPILE_WARMING) {
            out->state = EOS_WASM_COMPILE_WARMING; /* a large module compiles after a warm-up */
        } else if (t.state != out->state) {
            out->state = t.state == EOS_WASM_COMPILE_FAILED || out->state == EOS_WASM_COMPILE_FAILED
                             ? EOS_WASM_COMPILE_FAILED
                             : EOS_WASM_COMPILE_NONE;
        }
        /* From the cache only when every module's code came from it. */
        out->from_cache = out->from_cache && t.from_cache;
        out->compile_ns += t.compile_ns;
        out->code_size += t.code_size;
        out->func_count += t.func_count;
    }
    for (uint32_t i = 0; i < c->component_count; i++)
        tier_sum(c->components[i], out, any);
}

void eos_cm_component_code_size(const eos_cm_component *c, size_t *out_wasm_size,
                                size_t *out_internal_size)
{
    for (uint32_t i = 0; i < c->module_count; i++) {
        size_t w = 0, t = 0;
        eos_wasm_module_code_size(c->modules[i], &w, &t);
        *out_wasm_size += w;
        *out_internal_size += t;
    }
    for (uint32_t i = 0; i < c->component_count; i++)
        eos_cm_component_code_size(c->components[i], out_wasm_size, out_internal_size);
}

void eos_cm_component_tier_info(const eos_cm_component *c, eos_wasm_tier_info *out)
{
    bool any = false;
    memset(out, 0, sizeof(*out));
    tier_sum(c, out, &any);
}

size_t eos_cm_component_import_count(const eos_cm_component *c)
{
    return c->import_count;
}

size_t eos_cm_component_export_count(const eos_cm_component *c)
{
    return c->export_count;
}

void eos_cm_component_import(const eos_cm_component *c, size_t index, eos_cm_item_desc *out)
{
    const eos_cm__import *im = &c->imports[index];
    fill(im->name, im->sort, &im->type, out);
}

static const eos_cm__typedef *export_type(const eos_cm_component *c, size_t index)
{
    const eos_cm__export *e = &c->exports[index];
    return &c->spaces[e->sort].defs[e->index].type;
}

void eos_cm_component_export(const eos_cm_component *c, size_t index, eos_cm_item_desc *out)
{
    fill(c->exports[index].name, c->exports[index].sort, export_type(c, index), out);
}

static int member(const eos_cm__typedef *t, size_t m, eos_cm_item_desc *out)
{
    if (t->kind != EOS_CM__T_INSTANCE || !t->of.inst || m >= t->of.inst->export_count)
        return EOS_ENOTFOUND;
    const eos_cm__decl *d = &t->of.inst->exports[m];
    memset(out, 0, sizeof(*out));
    out->name = d->name;
    out->kind = (eos_cm_item_kind)d->sort;
    if (d->type.kind == EOS_CM__T_FUNC)
        out->func = d->type.of.func;
    return 0;
}

int eos_cm_component_import_member(const eos_cm_component *c, size_t index, size_t m,
                                   eos_cm_item_desc *out)
{
    if (index >= c->import_count)
        return EOS_ENOTFOUND;
    return member(&c->imports[index].type, m, out);
}

int eos_cm_component_export_member(const eos_cm_component *c, size_t index, size_t m,
                                   eos_cm_item_desc *out)
{
    if (index >= c->export_count)
        return EOS_ENOTFOUND;
    return member(export_type(c, index), m, out);
}

static void describe_item(const char *verb, const char *name, const eos_cm__typedef *t,
                          uint8_t sort, FILE *out)
{
    if (sort == EOS_CM__S_FUNC && t->kind == EOS_CM__T_FUNC) {
        fprintf(out, "  %s %s: ", verb, name);
        eos_cm_functype_print(t->of.func, out);
        fputs(";\n", out);
        return;
    }
    if (sort == EOS_CM__S_INSTANCE && t->kind == EOS_CM__T_INSTANCE && t->of.inst) {
        fprintf(out, "  %s %s {\n", verb, name);
        const eos_cm__itype *it = t->of.inst;
        for (uint32_t i = 0; i < it->export_count; i++) {
            const eos_cm__decl *d = &it->exports[i];
            if (d->sort == EOS_CM_ITEM_TYPE && d->type.kind == EOS_CM__T_RESOURCE) {
                fprintf(out, "    resource %s;\n", d->name);
            } else if (d->sort == EOS_CM_ITEM_TYPE && d->type.kind == EOS_CM__T_VAL &&
                       d->type.of.val->kind > EOS_CM_STRING) {
                fprintf(out, "    type %s = ", d->name);
                const eos_cm_type *v = d->type.of.val;
                eos_cm_type anon = *v;
                anon.name = NULL;
                eos_cm_type_print(&anon, out);
                fputs(";\n", out);
            } else if (d->sort == EOS_CM_ITEM_FUNC && d->type.kind == EOS_CM__T_FUNC) {
                fprintf(out, "    %s: ", d->name);
                eos_cm_functype_print(d->type.of.func, out);
                fputs(";\n", out);
            }
        }
        fputs("  }\n", out);
        return;
    }
    if (sort == EOS_CM__S_TYPE && t->kind == EOS_CM__T_VAL) {
        eos_cm_type anon = *t->of.val;
        anon.name = NULL;
        fprintf(out, "  %s type %s = ", verb, name);
        eos_cm_type_print(&anon, out);
        fputs(";\n", out);
        return;
    }
    if (sort == EOS_CM__S_TYPE && t->kind == EOS_CM__T_RESOURCE) {
        fprintf(out, "  %s resource %s;\n", verb, name);
        return;
    }
    static const char *kinds[] = {"func", "instance", "type", "component", "module", "value"};
    fprintf(out, "  %s %s: %s;\n", verb, name, kinds[eos_cm__item_kind(sort)]);
}

int eos_cm_describe(const uint8_t *bytes, size_t size, FILE *out, eos_diag *diag)
{
    uint8_t hash[SHA256_DIGEST_LENGTH];
    char hex[2 * SHA256_DIGEST_LENGTH + 1];
    eos_cm_component *c = NULL;
    SHA256(bytes, size, hash);
    eos_hex_encode(hash, sizeof(hash), hex);
    fprintf(out, "size: %zu bytes\nsha256: %s\n", size, hex);
    int rc = eos_cm_component_new(bytes, size, NULL, &c, diag);
    if (rc)
        return rc;
    fputs("world component {\n", out);
    for (uint32_t i = 0; i < c->import_count; i++)
        describe_item("import", c->imports[i].name, &c->imports[i].type, c->imports[i].sort, out);
    for (uint32_t i = 0; i < c->export_count; i++)
        describe_item("export", c->exports[i].name, export_type(c, i), c->exports[i].sort, out);
    fputs("}\n", out);
    eos_cm_component_free(c);
    return ferror(out) ? EOS_EIO : 0;
}
