/* Private to outgoing.c and outpolicy.c: the app's egress policy and
 * counters, and the allow-list check. */
#ifndef EOS_WASI_OUTGOING_H
#define EOS_WASI_OUTGOING_H

#include <stdatomic.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "internal.h"

typedef struct eos_wasi__orule {
    bool https;
    bool wildcard; /* `*.host`: names below host */
    char *host;    /* lower-case */
    int port;      /* -1: any */
    char *text;    /* as given, for the log */
    /* `;attested`: the peer must pass the peer verifier under policy (whose
     * pointers point into this rule) instead of the CA bundle. */
    bool attested;
    eos_wasi_peer_policy policy;
    uint8_t root[32], code[32];
    char *app;
} eos_wasi__orule;

typedef struct eos_wasi__outapp {
    eos_wasi__orule *rules;
    size_t rule_count;
    X509_STORE *store;
    const eos_wasi_peer_verifier *verifier; /* borrowed from the embedder */
    uint64_t max_response;
    uint32_t max_concurrent;
    uint64_t connect_ns, first_byte_ns, between_ns;
    atomic_uint inflight;
    atomic_uint_fast64_t calls, denied, errors, bytes_out, bytes_in;
} eos_wasi__outapp;

/* A call's check of an attested peer: the rule it was allowed by and, when
 * the peer verifier refused the peer during the TLS handshake, why. */
typedef struct eos_wasi__peercheck {
    const eos_wasi__orule *rule; /* NULL: not an attested call */
    const eos_wasi__outapp *oa;
    bool refused;
    char why[256];
} eos_wasi__peercheck;

/* Makes ctx check the peer's chain with the app's peer verifier under
 * pc->rule instead of the CA bundle; borrows pc, which must outlive every
 * handshake on ctx (the call's connection). */
void eos_wasi__out_peer_install(SSL_CTX *ctx, eos_wasi__peercheck *pc);

/* The first rule that allows the destination (borrowed from oa), or NULL
 * with why saying which rule refused it. */
const eos_wasi__orule *eos_wasi__out_allowed(const eos_wasi__outapp *oa, bool https,
                                             const char *host, int port, char *why,
                                             size_t why_size);

#endif
