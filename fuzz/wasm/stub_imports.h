/* Imports for fuzzed modules: every import gets a stand-in of its own type
 * (host functions returning 1, 2, ... per result, fresh tables, memories and
 * zeroed globals), so any module that validates can be instantiated. Shared by
 * the wasm fuzz targets; static, so each target keeps its own copy. */
#ifndef EOS_FUZZ_WASM_STUB_IMPORTS_H
#define EOS_FUZZ_WASM_STUB_IMPORTS_H

#include <string.h>

#include "eos/wasm.h"

static int stub_host(eos_wasm_caller *c, void *ud, uint64_t *slots)
{
    (void)c;
    const eos_wasm_functype *t = ud;
    for (uint32_t i = 0; i < t->result_count; i++)
        slots[i] = i + 1;
    return 0;
}

/* Fills e with a stand-in for the import d in s; 0 or an eos_err. */
static int make_import(eos_wasm_store *s, const eos_wasm_import_desc *d, eos_wasm_extern *e)
{
    e->kind = d->type.kind;
    switch (d->type.kind) {
    case EOS_WASM_EXTERN_FUNC:
        return eos_wasm_func_new_host(s, d->type.of.func, stub_host, (void *)d->type.of.func,
                                      &e->of.func);
    case EOS_WASM_EXTERN_TABLE: {
        eos_wasm_val null = {.type = d->type.of.table.elem_type};
        return eos_wasm_table_new(s, &d->type.of.table, null, &e->of.table);
    }
    case EOS_WASM_EXTERN_MEMORY:
        return eos_wasm_memory_new(s, &d->type.of.memory, &e->of.memory);
    default: {
        eos_wasm_val zero;
        memset(&zero, 0, sizeof(zero));
        zero.type = d->type.of.global.valtype;
        return eos_wasm_global_new(s, &d->type.of.global, zero, &e->of.global);
    }
    }
}

#endif
