/* A connection's output buffer: bytes wait here until the transport takes
 * them. Shared by the connection (its own answers) and the job hand-off
 * (an app's response moved over from the app thread). */
#include <string.h>

#include "internal.h"

int eos_net__outbuf_add(eos_net__outbuf *ob, const uint8_t *bytes, size_t size)
{
    /* Everything written: start over at the front, unless a write must be
     * repeated from where it stands. */
    if (ob->off && ob->off == ob->len && !ob->retry)
        ob->off = ob->len = 0;
    if (size > ob->cap - ob->len) {
        size_t need = ob->len + size;
        size_t cap = ob->cap ? ob->cap : 4096;
        while (cap < need)
            cap *= 2;
        uint8_t *nb = eos_realloc(ob->p, ob->cap, cap);
        if (!nb)
            return EOS_ENOMEM;
        ob->p = nb;
        ob->cap = cap;
    }
    memcpy(ob->p + ob->len, bytes, size);
    ob->len += size;
    return 0;
}
