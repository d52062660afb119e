/* A small blocking RA-TLS test server: one listening thread on loopback that
 * serves connections one at a time with an SSL_CTX configured by
 * eos_ratls_server_configure_ctx, and answers the framed config_manifest
 * request (other frames get an Error). Used by the end-to-end tests and the
 * standalone ratls_test_server program. */
#ifndef EOS_TEST_TLS_SERVER_H
#define EOS_TEST_TLS_SERVER_H

#include "eos/ratls.h"

typedef struct test_tls_server test_tls_server;

/* Starts serving, in a thread of its own, on 127.0.0.1:port (0 = any free port). serve_manifest = 0
 * makes it answer config_manifest with an Error, as a server without the
 * request would. Borrows srv. */
int test_tls_server_start(eos_ratls_server *srv, int port, int serve_manifest,
                          test_tls_server **out, int *out_port);
void test_tls_server_stop(test_tls_server *t);

#endif
