/* Placeholder until the engine lands: every entry point reports that the
 * engine is not available in this build. */
#include "eos/wasm.h"

int eos_wasm_module_new(const uint8_t *bytes, size_t size, const eos_wasm_features *features,
                        eos_wasm_module **out, eos_diag *diag)
{
    (void)bytes;
    (void)size;
    (void)features;
    *out = NULL;
    return eos_diag_set(diag, EOS_EUNAVAILABLE, "engine", -1,
                        "the WebAssembly engine is not available yet in this version");
}

void eos_wasm_module_free(eos_wasm_module *m)
{
    (void)m;
}
