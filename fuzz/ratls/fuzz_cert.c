/* libFuzzer target: the verifier on an arbitrary presented chain (the input
 * split into DER certificates at 0xFF 0xFE markers), i.e. X.509 and
 * extension handling plus the evidence parsers reached through them. */
#include <stdlib.h>
#include <string.h>

#include "eos/ratls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *der[4];
    size_t sizes[4], count = 0, start = 0;
    for (size_t i = 0; i + 1 < size && count < 3; i++) {
        if (data[i] == 0xff && data[i + 1] == 0xfe) {
            der[count] = data + start;
            sizes[count++] = i - start;
            start = i + 2;
            i++;
        }
    }
    der[count] = data + start;
    sizes[count++] = size - start;
    eos_ratls_verify_opts o;
    memset(&o, 0, sizeof o);
    o.allow_simulated = 1;
    o.allow_debug = 1;
    o.now = 1767323059;
    eos_ratls_verify_result r;
    eos_ratls_verify_chain(der, sizes, count, &o, &r, NULL);
    return 0;
}
