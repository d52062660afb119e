/* The compiled tier when the build has no LLVM: every module is interpreted;
 * asking for the compiled tier explicitly fails, auto quietly interprets. */
#include "internal.h"

#include <stdlib.h>

bool eos_wasm_jit_available(void)
{
    return false;
}

void eos_wasm_jit_shutdown(void)
{
}

size_t eos_wasm_jit_shutdown_within(unsigned ms)
{
    (void)ms;
    return 0;
}

size_t eos_wasm_jit_pending(void)
{
    return 0;
}

int eos_wasm__jit_module_loaded(eos_wasm_module *m, eos_diag *diag)
{
    if (m->features.bounds == EOS_WASM_BOUNDS_GUARD && m->features.tier != EOS_WASM_TIER_INTERP)
        return eos_diag_set(diag, EOS_EUNSUPPORTED, "compile", -1,
                            "guard-page bounds checks need the compiled tier, which this build "
                            "has not");
    if (m->features.tier == EOS_WASM_TIER_COMPILED)
        return eos_diag_set(diag, EOS_EUNSUPPORTED, "compile", -1,
                            "this build has no compiled tier (LLVM was not found): use the "
                            "interpreter or auto");
    return 0;
}

void eos_wasm__jit_module_free(eos_wasm_module *m)
{
    (void)m;
}

int eos_wasm__jit_exec(eos_wasm_store *s, eos_wasm_func *f, uint64_t *slots)
{
    (void)s;
    (void)slots;
    f->inst->tier = EOS_WASM__RUN_INTERP;
    return EOS_WASM__JIT_DECLINED;
}

void eos_wasm_module_tier_info(const eos_wasm_module *m, eos_wasm_tier_info *out)
{
    memset(out, 0, sizeof(*out));
    out->requested = (eos_wasm_tier)m->features.tier;
}

int eos_wasm_module_wait_compiled(eos_wasm_module *m)
{
    (void)m;
    return EOS_EUNSUPPORTED;
}

_Noreturn void eos_wasm__jit_guard_trap(eos_wasm_store *s)
{
    /* Never reached: without compiled code no fault is taken as a trap. */
    (void)s;
    abort();
}
