/* libFuzzer target: the outbound allow-list rule parser (with its attested
 * peer options) on arbitrary bytes, as rules arrive from the management
 * protocol and PUT headers. A refused rule must say why; an accepted one
 * holds printable ASCII only, since it goes verbatim into the log, the
 * app's info and its Merkle leaf. */
#include <stdlib.h>
#include <string.h>

#include "eos/wasi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly the input and its NUL, so ASan catches any over-read. */
    char *in = malloc(size + 1);
    if (!in)
        return 0;
    memcpy(in, data, size);
    in[size] = 0;
    eos_diag d;
    eos_diag_init(&d);
    int rc = eos_wasi_outbound_rule_check(in, &d);
    if (rc != 0 && (rc != EOS_EINVAL || !d.message[0]))
        abort();
    if (rc == 0) {
        for (size_t i = 0; in[i]; i++)
            if ((unsigned char)in[i] < 0x21 || (unsigned char)in[i] > 0x7e)
                abort();
    }
    free(in);
    return 0;
}
