/* libFuzzer target: the collateral parser on arbitrary bytes (Intel TCB
 * info and QE identity JSON, the SEV-SNP minimum TCB). Whatever parses must
 * describe itself within its own limits. */
#include <stdlib.h>
#include <string.h>

#include "eos/ratls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eos_ratls_collateral_info info;
    eos_diag d;
    /* A copy of exactly the input size, so ASan catches any over-read. */
    char *json = malloc(size ? size : 1);
    memcpy(json, data, size);
    eos_diag_init(&d);
    if (eos_ratls_collateral_describe(json, size, &info, &d) == 0) {
        if (info.type < 1 || info.type > 3 || info.level_count > 256 ||
            memchr(info.id, 0, sizeof info.id) == NULL)
            abort();
    } else if (d.message[0] == '\0') {
        abort();
    }
    free(json);
    return 0;
}
