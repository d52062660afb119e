/* libFuzzer target: every evidence parser on arbitrary bytes. The first byte
 * picks the parser (auto-detect, SGX, TDX, SNP, sim); the rest is evidence. */
#include <stdlib.h>
#include <string.h>

#include "eos/tee.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eos_tee_evidence_info info;
    eos_diag d;
    if (size < 1)
        return 0;
    /* A copy of exactly the evidence size, so ASan catches any over-read. */
    uint8_t *ev = malloc(size - 1 ? size - 1 : 1);
    memcpy(ev, data + 1, size - 1);
    eos_diag_init(&d);
    int rc;
    switch (data[0] % 5) {
    case 0:
        rc = eos_tee_parse_evidence(ev, size - 1, &info, &d);
        break;
    case 1:
        rc = eos_tee_parse_sgx_quote(ev, size - 1, &info, &d);
        break;
    case 2:
        rc = eos_tee_parse_tdx_quote(ev, size - 1, &info, &d);
        break;
    case 3:
        rc = eos_tee_parse_snp_report(ev, size - 1, &info, &d);
        break;
    default:
        rc = eos_tee_parse_sim(ev, size - 1, &info, &d);
        break;
    }
    if (rc == 0) {
        /* Touch every reported field: each must lie inside the input. */
        volatile uint8_t sink = info.report_data[63];
        sink ^= info.measurement[info.measurement_size - 1];
        if (info.qe_auth_size)
            sink ^= info.qe_auth[info.qe_auth_size - 1];
        if (info.cert_data_size)
            sink ^= info.cert_data[info.cert_data_size - 1];
        (void)sink;
    }
    free(ev);
    return 0;
}
