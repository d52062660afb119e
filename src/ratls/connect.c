/* The client half of verification: a TLS 1.3 connection that may carry a
 * 0xFFBB challenge, collection of the presented chain, and the manifest
 * fetched over the framed protocol ({"Data": bytes of {"config_manifest":{}}}). */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <yajl/yajl_tree.h>

#include "internal.h"

typedef struct challenge {
    const uint8_t *nonce;
    size_t size;
    int echoed;
} challenge;

static int ch_add(SSL *s, unsigned int type, unsigned int context, const unsigned char **out,
                  size_t *outlen, X509 *x, size_t chainidx, int *al, void *arg)
{
    challenge *c = arg;
    if (!(context & SSL_EXT_CLIENT_HELLO))
        return 0;
    *out = c->nonce;
    *outlen = c->size;
    return 1;
}

static int ch_parse(SSL *s, unsigned int type, unsigned int context, const unsigned char *in,
                    size_t inlen, X509 *x, size_t chainidx, int *al, void *arg)
{
    challenge *c = arg;
    if (context & SSL_EXT_TLS1_3_ENCRYPTED_EXTENSIONS)
        c->echoed = 1;
    return 1;
}

static int tcp_connect(const char *host, const char *port, eos_diag *d)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    int e = getaddrinfo(host, port, &hints, &res), fd = -1;
    if (e != 0) {
        eos_diag_set(d, EOS_EIO, "connect", -1, "cannot resolve %s: %s", host, gai_strerror(e));
        return -1;
    }
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        eos_diag_set(d, EOS_EIO, "connect", -1, "cannot connect to %s:%s", host, port);
        return -1;
    }
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

static int ssl_read_full(SSL *ssl, uint8_t *buf, size_t size)
{
    size_t got = 0;
    while (got < size) {
        size_t n = 0;
        if (SSL_read_ex(ssl, buf + got, size - got, &n) != 1)
            return -1;
        got += n;
    }
    return 0;
}

/* Asks for the manifest; leaves *out NULL when the server does not serve it. */
static void fetch_manifest(SSL *ssl, uint8_t **out, size_t *out_size)
{
    static const char inner[] = "{\"config_manifest\":{}}";
    char req[256], *p = req + 4;
    uint8_t hdr[4], *resp = NULL, *doc = NULL;
    size_t len = 0, doc_size = 0;
    yajl_val v = NULL;
    char err[64];
    *out = NULL;
    p += sprintf(p, "{\"Data\":[");
    for (size_t i = 0; i < sizeof inner - 1; i++)
        p += sprintf(p, "%s%u", i ? "," : "", (unsigned char)inner[i]);
    p += sprintf(p, "]}");
    size_t n = (size_t)(p - req - 4);
    req[0] = (char)(n >> 24);
    req[1] = (char)(n >> 16);
    req[2] = (char)(n >> 8);
    req[3] = (char)n;
    size_t w;
    if (SSL_write_ex(ssl, req, n + 4, &w) != 1 || ssl_read_full(ssl, hdr, 4) != 0)
        goto out;
    len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
    if (len == 0 || len > (64u << 20) || !(resp = eos_malloc(len + 1)) ||
        ssl_read_full(ssl, resp, len) != 0)
        goto out;
    resp[len] = 0;
    static const char *data_path[] = {"Data", NULL};
    v = yajl_tree_parse((const char *)resp, err, sizeof err);
    yajl_val data = v ? yajl_tree_get(v, data_path, yajl_t_array) : NULL;
    if (!data || !(doc = eos_malloc(data->u.array.len + 1)))
        goto out;
    doc_size = data->u.array.len + 1;
    for (size_t i = 0; i < data->u.array.len; i++) {
        yajl_val b = data->u.array.values[i];
        if (!YAJL_IS_INTEGER(b) || YAJL_GET_INTEGER(b) < 0 || YAJL_GET_INTEGER(b) > 255)
            goto out;
        doc[i] = (uint8_t)YAJL_GET_INTEGER(b);
    }
    if (eos_ratls_manifest_from_json((const char *)doc, data->u.array.len, out, out_size, NULL) !=
        0)
        *out = NULL;
out:
    yajl_tree_free(v);
    eos_free(doc, doc_size);
    eos_free(resp, len + 1);
}

int eos_ratls_verify_connect(const char *host, const char *port, const eos_ratls_verify_opts *opts,
                             eos_ratls_verify_result *out, eos_diag *diag)
{
    int rc = 0, fd = -1;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    uint8_t **der = NULL, *manifest = NULL;
    size_t *der_size = NULL, count = 0, manifest_size = 0;
    challenge ch = {opts->nonce, opts->nonce_size, 0};
    eos_ratls_verify_opts o = *opts;
    memset(out, 0, sizeof *out);
    if (!ctx) {
        rc = EOS_ENOMEM;
        goto out;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    /* The chain is judged by eos_ratls_verify_chain, not by OpenSSL's default policy. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    if (opts->nonce &&
        (opts->nonce_size < 1 || opts->nonce_size > EOS_RATLS_NONCE_MAX ||
         !SSL_CTX_add_custom_ext(ctx, EOS_RATLS_CHALLENGE_EXT,
                                 SSL_EXT_CLIENT_HELLO | SSL_EXT_TLS1_3_ENCRYPTED_EXTENSIONS, ch_add,
                                 NULL, &ch, ch_parse, &ch))) {
        rc = eos_diag_set(diag, EOS_EINVAL, "challenge", -1, "a nonce is 1 to 64 bytes");
        goto out;
    }
    if ((fd = tcp_connect(host, port, diag)) < 0) {
        out->failed_step = EOS_RATLS_STEP_CONNECT;
        rc = EOS_EIO;
        goto out;
    }
    /* SNI selects an app's certificate; IP literals are not host names. */
    unsigned char addr[16];
    int is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
    const char *sni = opts->server_name ? opts->server_name : is_ip ? NULL : host;
    if (!(ssl = SSL_new(ctx)) || !SSL_set_fd(ssl, fd) ||
        (sni && !SSL_set_tlsext_host_name(ssl, sni)) || SSL_connect(ssl) != 1) {
        unsigned long e = ERR_get_error();
        out->failed_step = EOS_RATLS_STEP_CONNECT;
        rc = eos_diag_set(diag, EOS_ETLS, "connect", -1, "TLS 1.3 handshake with %s:%s failed: %s",
                          host, port, e ? ERR_reason_error_string(e) : "connection closed");
        goto out;
    }
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
    count = chain ? (size_t)sk_X509_num(chain) : 0;
    if (count && (!(der = eos_calloc(count, sizeof *der)) ||
                  !(der_size = eos_calloc(count, sizeof *der_size)))) {
        rc = EOS_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        int n = i2d_X509(sk_X509_value(chain, (int)i), &der[i]);
        if (n <= 0) {
            rc = EOS_ENOMEM;
            goto out;
        }
        der_size[i] = (size_t)n;
    }
    if (opts->nonce && !ch.echoed) {
        out->failed_step = EOS_RATLS_STEP_CHALLENGE;
        rc = eos_diag_set(diag, EOS_EVERIFY, "challenge", -1,
                          "the server did not acknowledge the 0xFFBB challenge: it does not "
                          "support challenge mode, so the nonce is not bound");
        goto out;
    }
    if (!opts->manifest) {
        fetch_manifest(ssl, &manifest, &manifest_size);
        o.manifest = manifest;
        o.manifest_size = manifest_size;
    }
    rc = eos_ratls_verify_chain((const uint8_t *const *)der, der_size, count, &o, out, diag);
out:
    for (size_t i = 0; der && i < count; i++)
        OPENSSL_free(der[i]);
    eos_free(der, count * sizeof *der);
    eos_free(der_size, count * sizeof *der_size);
    eos_free(manifest, manifest_size);
    if (ssl)
        SSL_shutdown(ssl);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    if (fd >= 0)
        close(fd);
    ERR_clear_error();
    return rc;
}
