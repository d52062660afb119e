/* Private to outgoing.c and outpolicy.c: the app's egress policy and
 * counters, and the allow-list check. */
#ifndef EOS_WASI_OUTGOING_H
#define EOS_WASI_OUTGOING_H

#include <stdatomic.h>

#include <openssl/x509.h>

#include "internal.h"

typedef struct eos_wasi__orule {
    bool https;
    bool wildcard; /* `*.host`: names below host */
    char *host;    /* lower-case */
    int port;      /* -1: any */
    char *text;    /* as given, for the log */
} eos_wasi__orule;

typedef struct eos_wasi__outapp {
    eos_wasi__orule *rules;
    size_t rule_count;
    X509_STORE *store;
    uint64_t max_response;
    uint32_t max_concurrent;
    uint64_t connect_ns, first_byte_ns, between_ns;
    atomic_uint inflight;
    atomic_uint_fast64_t calls, denied, errors, bytes_out, bytes_in;
} eos_wasi__outapp;

/* The rule text that allows the destination (borrowed from oa), or NULL with
 * why saying which rule refused it. */
const char *eos_wasi__out_allowed(const eos_wasi__outapp *oa, bool https, const char *host,
                                  int port, char *why, size_t why_size);

#endif
