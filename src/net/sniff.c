/* The protocol of a connection: HTTP when ALPN agreed on http/1.1, else the
 * first bytes after the handshake pick it (SPEC 2): a frame's first byte is the top byte of its length, below 0x20
 * for any frame under 512 MiB, while every HTTP method starts with an
 * upper-case letter; the first four bytes confirm a method. */
#include <string.h>

#include "internal.h"

static const char *const http_methods[] = {"GET ", "POST", "PUT ", "HEAD", "DELE",
                                           "OPTI", "PATC", "CONN", "TRAC"};

typedef struct sniff_state {
    uint8_t bytes[4];
    size_t len;
} sniff_state;

/* The protocol the first bytes belong to, or NULL while undecided. */
static const eos_net__protocol *decide(const sniff_state *st)
{
    if (st->bytes[0] < 'A' || st->bytes[0] > 'Z')
        return &eos_net__proto_framed;
    if (st->len < 4)
        return NULL;
    for (size_t i = 0; i < EOS_ARRAY_LEN(http_methods); i++)
        if (memcmp(st->bytes, http_methods[i], 4) == 0)
            return &eos_net__proto_http;
    return &eos_net__proto_framed;
}

static void sniff_input(eos_net__conn *c, const uint8_t *data, size_t size)
{
    size_t alpn_len = 0;
    const char *alpn = c->tr->alpn(c, &alpn_len);
    if (alpn_len == 8 && memcmp(alpn, "http/1.1", 8) == 0) {
        eos_net__conn_switch(c, &eos_net__proto_http, data, size);
        return;
    }
    sniff_state local = {{0}, 0};
    sniff_state *st = c->ps ? c->ps : &local;
    size_t take = 4 - st->len;
    if (take > size)
        take = size;
    memcpy(st->bytes + st->len, data, take);
    st->len += take;
    const eos_net__protocol *p = decide(st);
    if (!p) {
        /* Undecided after this read (a client sending a byte at a time):
         * the bytes so far wait in a state of their own. */
        if (!c->ps) {
            st = eos_malloc(sizeof *st);
            if (!st) {
                c->close_after_flush = 1;
                return;
            }
            *st = local;
            c->ps = st;
        }
        return;
    }
    /* The sniffed bytes go first, then the rest of this read. */
    sniff_state seen = *st;
    eos_net__conn_switch(c, p, seen.bytes, seen.len);
    if (!c->dead && !c->close_after_flush && size > take)
        p->input(c, data + take, size - take);
}

static void sniff_pump(eos_net__conn *c)
{
    (void)c;
}

static int sniff_busy(const eos_net__conn *c)
{
    (void)c;
    return 0;
}

static int sniff_expire(eos_net__conn *c)
{
    (void)c;
    return 0;
}

static void sniff_free(eos_net__conn *c)
{
    if (c->ps)
        eos_free(c->ps, sizeof(sniff_state));
    c->ps = NULL;
}

const eos_net__protocol eos_net__proto_sniff = {
    .name = "sniff",
    .input = sniff_input,
    .pump = sniff_pump,
    .busy = sniff_busy,
    .expire = sniff_expire,
    .free = sniff_free,
};
