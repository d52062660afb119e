/* libFuzzer target: the component decoder and validator, plus the
 * description writer, on arbitrary bytes. */
#include <stdio.h>

#include "eos/cm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eos_cm_component *c = NULL;
    eos_diag d;
    eos_diag_init(&d);
    if (eos_cm_component_new(data, size, NULL, &c, &d) == 0) {
        eos_cm_item_desc it, m;
        for (size_t i = 0; i < eos_cm_component_import_count(c); i++) {
            eos_cm_component_import(c, i, &it);
            for (size_t k = 0; eos_cm_component_import_member(c, i, k, &m) == 0; k++)
                ;
        }
        for (size_t i = 0; i < eos_cm_component_export_count(c); i++)
            eos_cm_component_export(c, i, &it);
        eos_cm_component_free(c);
        FILE *null = fopen("/dev/null", "w");
        if (null) {
            eos_cm_describe(data, size, null, &d);
            fclose(null);
        }
    }
    return 0;
}
