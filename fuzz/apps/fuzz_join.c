/* libFuzzer target for the join messages a node receives from the network:
 * the first byte picks a request or a grant, the rest goes through the
 * parser and, for a request, through the member's whole check (evidence
 * parsing, report data, measurement) with a simulated TEE and a store in
 * memory. Nothing but a well-formed, genuine request may get a grant. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eos/apps.h"
#include "eos/kv.h"
#include "eos/tee.h"

static eos_tee *tee;
static eos_kv *kv;

static void setup(void)
{
    char dir[] = "/tmp/eos-fuzz-join-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    eos_tee_config tc = {.kind = "sim", .data_dir = dir};
    eos_kv_config kc = {.data_dir = dir};
    eos_log_set_level(EOS_LOG_OFF);
    if (eos_tee_open(&tc, &tee, NULL) != 0)
        abort();
    kc.tee = tee;
    if (eos_kv_backend_memory(&kc.backend) != 0 || eos_kv_open(&kc, &kv, NULL) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!tee)
        setup();
    if (size < 1)
        return 0;
    int grant = data[0] & 1;
    eos_apps_join_msg m;
    if (eos_apps_join_parse(data + 1, size - 1, grant, &m, NULL) != 0)
        return 0;
    if (m.evidence < data + 1 || m.evidence + m.evidence_size > data + size)
        abort();
    if (grant && (m.sealed < data + 1 || m.sealed_size < 32 || m.tag + 16 > m.evidence))
        abort();
    if (!grant) {
        uint8_t *out = NULL;
        size_t out_size = 0;
        /* Fuzzed evidence cannot bind the fuzzed key to this binary's
         * measurement unless it is a real request; either way no crash. */
        if (eos_apps_join_grant(tee, kv, NULL, NULL, data + 1, size - 1, &out, &out_size, NULL) ==
            0)
            eos_free(out, out_size);
    }
    return 0;
}
