/* serve --join HOST:PORT: asks a member of the cluster for the data key
 * before the store opens. The request and grant carry their own evidence
 * (apps/join.c), so the TLS connection here only carries them; the grant is
 * trusted once its evidence checks out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "cli.h"
#include "eos/apps.h"

#define MAX_ANSWER (1u << 20)

/* POSTs body to hostport's join endpoint; the answer's status and body
 * (allocated; free with free()). */
static int post(const char *hostport, const uint8_t *body, size_t size, int *status, uint8_t **out,
                size_t *out_size, eos_diag *d)
{
    int rc = 0;
    uint8_t *buf = NULL;
    size_t len = 0;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    BIO *b = ctx ? BIO_new_ssl_connect(ctx) : NULL;
    SSL *ssl = NULL;
    if (!b) {
        rc = eos_diag_set(d, EOS_ENOMEM, "join", -1, "out of memory");
        goto out;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    BIO_get_ssl(b, &ssl);
    SSL_set_mode(ssl, SSL_MODE_AUTO_RETRY);
    BIO_set_conn_hostname(b, hostport);
    if (BIO_do_connect(b) <= 0 || BIO_do_handshake(b) <= 0) {
        rc = eos_diag_set(d, EOS_ECLOSED, "join", -1, "cannot reach %s over TLS", hostport);
        goto out;
    }
    char head[512];
    int n = snprintf(head, sizeof head,
                     "POST /.well-known/enclave-os/cluster/join HTTP/1.1\r\nHost: %s\r\n"
                     "Content-Type: application/octet-stream\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     hostport, size);
    if (BIO_write(b, head, n) != n || BIO_write(b, body, (int)size) != (int)size ||
        BIO_flush(b) != 1) {
        rc = eos_diag_set(d, EOS_ECLOSED, "join", -1, "%s closed the connection", hostport);
        goto out;
    }
    buf = malloc(MAX_ANSWER);
    if (!buf) {
        rc = eos_diag_set(d, EOS_ENOMEM, "join", -1, "out of memory");
        goto out;
    }
    for (;;) {
        int r = BIO_read(b, buf + len, (int)(MAX_ANSWER - len));
        if (r <= 0)
            break;
        len += (size_t)r;
        if (len == MAX_ANSWER)
            break;
    }
    uint8_t *sep = len >= 4 ? memmem(buf, len, "\r\n\r\n", 4) : NULL;
    if (!sep || len < 12 || memcmp(buf, "HTTP/1.", 7) != 0) {
        rc = eos_diag_set(d, EOS_EPROTO, "join", -1, "%s did not answer in HTTP", hostport);
        goto out;
    }
    *status = atoi((const char *)buf + 9);
    size_t start = (size_t)(sep + 4 - buf);
    *out_size = len - start;
    *out = malloc(*out_size + 1);
    if (!*out) {
        rc = eos_diag_set(d, EOS_ENOMEM, "join", -1, "out of memory");
        goto out;
    }
    memcpy(*out, buf + start, *out_size);
    (*out)[*out_size] = 0;
out:
    free(buf);
    BIO_free_all(b);
    SSL_CTX_free(ctx);
    return rc;
}

int eos_cli__join(const char *hostport, eos_tee *tee, const eos_apps_join_policy *pol,
                  uint8_t key[32], uint8_t **ca, size_t *ca_size, eos_diag *d)
{
    eos_apps_join *j = NULL;
    uint8_t *req = NULL, *ans = NULL;
    size_t req_size = 0, ans_size = 0;
    int status = 0;
    int rc = eos_apps_join_request(tee, &j, &req, &req_size, d);
    if (rc == 0)
        rc = post(hostport, req, req_size, &status, &ans, &ans_size, d);
    if (rc == 0 && status != 200)
        rc = eos_diag_set(d, status == 403 ? EOS_EPERM : EOS_EPROTO, "join", -1,
                          "%s refused to release the data key (HTTP %d): %.300s", hostport, status,
                          (const char *)ans);
    if (rc == 0)
        rc = eos_apps_join_accept(j, tee, pol, ans, ans_size, key, ca, ca_size, d);
    if (rc == 0)
        EOS_INFO("serve",
                 "joined the cluster through %s: the data key%s was released to this "
                 "node's attested key",
                 hostport, *ca ? " and the cluster's CA" : "");
    eos_free(req, req_size);
    free(ans);
    eos_apps_join_free(j);
    return rc;
}
