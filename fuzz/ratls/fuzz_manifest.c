/* libFuzzer target: the binary manifest parser and the JSON manifest reader
 * on arbitrary bytes; a parsed manifest is re-encoded and must round-trip. */
#include <stdlib.h>
#include <string.h>

#include "eos/ratls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eos_ratls_manifest m;
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    if (eos_ratls_manifest_parse(copy, size, &m, NULL) == 0) {
        size_t total = 4;
        for (size_t i = 0; i < m.count; i++)
            total += 2 + m.entries[i].name_len + 32;
        if (total + 32 != size)
            abort();
        eos_ratls_manifest_free(&m);
    }
    uint8_t *bin = NULL;
    size_t bin_size = 0;
    if (eos_ratls_manifest_from_json((const char *)copy, size, &bin, &bin_size, NULL) == 0) {
        if (eos_ratls_manifest_parse(bin, bin_size, &m, NULL) != 0)
            abort();
        eos_ratls_manifest_free(&m);
        eos_free(bin, bin_size);
    }
    free(copy);
    return 0;
}
