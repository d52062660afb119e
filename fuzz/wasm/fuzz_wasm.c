/* libFuzzer target for the engine: decode and validate arbitrary bytes; when
 * a module is accepted, instantiate it with stub imports under tight limits
 * and call every exported function with zero arguments and a fuel budget. */
#include <stdlib.h>
#include <string.h>

#include "eos/wasm.h"
#include "stub_imports.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eos_wasm_module *m = NULL;
    eos_wasm_store *s = NULL;
    eos_wasm_extern *imports = NULL;
    if (eos_wasm_module_new(data, size, NULL, &m, NULL) != 0)
        return 0;
    eos_wasm_limits lim = {.fuel = 20000,
                           .max_memory_bytes = 64u << 20,
                           .max_table_elems = 100000,
                           .max_call_depth = 2000};
    if (eos_wasm_store_new(&lim, &s) != 0)
        goto out;
    size_t n = eos_wasm_module_import_count(m);
    imports = calloc(n + 1, sizeof(*imports));
    for (size_t i = 0; i < n; i++) {
        eos_wasm_import_desc d;
        eos_wasm_module_import(m, i, &d);
        if (make_import(s, &d, &imports[i]) != 0)
            goto out;
    }
    eos_wasm_instance *inst;
    if (eos_wasm_instantiate(s, m, imports, n, &inst, NULL) != 0)
        goto out;
    for (size_t i = 0; i < eos_wasm_module_export_count(m); i++) {
        eos_wasm_export_desc d;
        eos_wasm_module_export(m, i, &d);
        if (d.type.kind != EOS_WASM_EXTERN_FUNC)
            continue;
        char name[256];
        if (d.name_len >= sizeof(name) || memchr(d.name, 0, d.name_len))
            continue;
        memcpy(name, d.name, d.name_len);
        name[d.name_len] = 0;
        eos_wasm_func *f = eos_wasm_instance_func(inst, name);
        if (!f)
            continue;
        const eos_wasm_functype *t = eos_wasm_func_type(f);
        /* Slots, not values: a v128 takes two. */
        size_t np = t->param_count, nr = t->result_count;
        for (uint32_t k = 0; k < t->param_count; k++)
            np += t->params[k] == EOS_WASM_V128;
        for (uint32_t k = 0; k < t->result_count; k++)
            nr += t->results[k] == EOS_WASM_V128;
        size_t slots_n = np > nr ? np : nr;
        uint64_t *slots = calloc(slots_n + 1, sizeof(uint64_t));
        eos_wasm_store_set_fuel(s, 20000);
        eos_wasm_func_call_raw(s, f, slots, NULL);
        free(slots);
    }
out:
    free(imports);
    eos_wasm_store_free(s);
    eos_wasm_module_free(m);
    return 0;
}
