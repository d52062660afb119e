/* libFuzzer target for wasm_call parameters: arbitrary bytes as the JSON
 * params of a function taking one value of each kind, converted to component
 * values and back to JSON. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../src/apps/internal.h"
#include "../../tests/apps/callval_types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static eos_cm_types *ts;
    static const eos_cm_functype *ft;
    if (!ts) {
        eos_diag d;
        eos_diag_init(&d);
        if (eos_cm_types_new(&ts) < 0 || eos_cm_types_declare(ts, CALLVAL_WIT, &d) < 0 ||
            eos_cm_types_parse_func(ts, CALLVAL_SIG, &ft, &d) < 0)
            __builtin_trap();
    }
    char *out = NULL;
    size_t out_size = 0;
    char err[256];
    if (eos_apps__params_roundtrip(ft, (const char *)data, size, &out, &out_size, err,
                                  sizeof err) == 0) {
        /* What came out must itself convert to the same text. */
        char *again = NULL;
        size_t again_size = 0;
        if (eos_apps__params_roundtrip(ft, out, out_size, &again, &again_size, err,
                                      sizeof err) != 0 ||
            again_size != out_size || memcmp(again, out, out_size) != 0)
            __builtin_trap();
        eos_free(again, again_size + 1);
        eos_free(out, out_size + 1);
    }
    return 0;
}
