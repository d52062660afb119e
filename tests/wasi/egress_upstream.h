/* A small HTTP/1.1 upstream on loopback for the egress tests and bench,
 * plain or TLS (certificates from a test CA made in memory), with paths that
 * misbehave on purpose. */
#ifndef EOS_TEST_EGRESS_UPSTREAM_H
#define EOS_TEST_EGRESS_UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>

typedef struct eu_server eu_server;

typedef enum eu_cert {
    EU_CERT_NONE = 0, /* plain http */
    EU_CERT_GOOD,     /* for localhost, signed by the test CA */
    EU_CERT_EXPIRED,  /* for localhost, expired an hour ago */
} eu_cert;

/* Writes the test CA's certificate to ca_path (once per process). */
int eu_ca_write(const char *ca_path);
/* Starts a server on 127.0.0.1 with a free port; NULL on failure.
 * Paths: /hello, /echo (body back), /silent (never answers), /huge-headers,
 * /truncated (promises 1000 bytes, sends 10), /reset (RST), /big?n=BYTES,
 * /redirect (302 to /hello). */
eu_server *eu_start(eu_cert cert);
int eu_port(const eu_server *s);
/* Requests served (heads read). */
uint64_t eu_requests(const eu_server *s);
void eu_stop(eu_server *s);

#endif
