/* The egress tests' upstream: one thread, connections served one at a time
 * with keep-alive, and a test CA built with OpenSSL's API. */
#include "egress_upstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct eu_server {
    int lfd;
    int port;
    int stop[2];
    pthread_t th;
    SSL_CTX *tls;
    uint64_t requests;
    int parked[16]; /* /silent connections, kept open */
    int nparked;
};

static EVP_PKEY *ca_key;
static X509 *ca_cert;
static pthread_once_t ca_once = PTHREAD_ONCE_INIT;

static EVP_PKEY *new_key(void)
{
    return EVP_EC_gen("P-256");
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                       long not_before, long not_after, bool ca)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(random() & 0x7fffffff));
    X509_gmtime_adj(X509_getm_notBefore(x), not_before);
    X509_gmtime_adj(X509_getm_notAfter(x), not_after);
    X509_set_pubkey(x, key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509V3_CTX v;
    X509V3_set_ctx(&v, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v, NID_basic_constraints,
                                            ca ? "critical,CA:TRUE" : "CA:FALSE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    if (!ca) {
        e = X509V3_EXT_conf_nid(NULL, &v, NID_subject_alt_name, "DNS:localhost");
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    X509_sign(x, issuer_key, EVP_sha256());
    return x;
}

static void ca_init(void)
{
    ca_key = new_key();
    ca_cert = make_cert(ca_key, "enclave-os egress test CA", NULL, ca_key, -3600, 86400, true);
}

int eu_ca_write(const char *ca_path)
{
    pthread_once(&ca_once, ca_init);
    FILE *f = fopen(ca_path, "w");
    if (!f)
        return -1;
    int ok = PEM_write_X509(f, ca_cert);
    fclose(f);
    return ok == 1 ? 0 : -1;
}

static int send_all(SSL *ssl, int fd, const void *b, size_t n)
{
    const char *p = b;
    while (n) {
        ssize_t k = ssl ? SSL_write(ssl, p, (int)(n > 1 << 20 ? 1 << 20 : n))
                        : send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static ssize_t recv_some(SSL *ssl, int fd, char *b, size_t cap)
{
    return ssl ? SSL_read(ssl, b, (int)cap) : recv(fd, b, cap, 0);
}

/* Reads the request body (content-length or chunked) from buf/len onwards;
 * returns it in a malloc'd buffer. Good enough for the tests' own client. */
static char *read_body(SSL *ssl, int fd, char *buf, size_t *len, size_t head, size_t *out_n)
{
    char *h = buf;
    h[head - 1] = 0;
    size_t cl = 0;
    bool chunked = strcasestr(h, "transfer-encoding: chunked") != NULL;
    const char *c = strcasestr(h, "content-length:");
    if (c)
        cl = strtoul(c + 15, NULL, 10);
    size_t cap = 1 << 16, n = 0;
    char *body = malloc(cap);
    size_t have = *len - head;
    char *raw = malloc(have + 1);
    memcpy(raw, buf + head, have);
    size_t rawn = have;
    for (;;) {
        if (!chunked && rawn >= cl)
            break;
        if (chunked && rawn >= 5 && memcmp(raw + rawn - 5, "0\r\n\r\n", 5) == 0)
            break;
        char tmp[65536];
        ssize_t k = recv_some(ssl, fd, tmp, sizeof(tmp));
        if (k <= 0)
            break;
        raw = realloc(raw, rawn + (size_t)k + 1);
        memcpy(raw + rawn, tmp, (size_t)k);
        rawn += (size_t)k;
    }
    if (!chunked) {
        free(body);
        *out_n = rawn < cl ? rawn : cl;
        *len = 0;
        return raw;
    }
    size_t i = 0;
    while (i < rawn) {
        size_t sz = strtoul(raw + i, NULL, 16);
        char *crlf = memmem(raw + i, rawn - i, "\r\n", 2);
        if (!crlf || sz == 0)
            break;
        i = (size_t)(crlf - raw) + 2;
        if (n + sz > cap)
            body = realloc(body, cap = n + sz);
        memcpy(body + n, raw + i, sz);
        n += sz;
        i += sz + 2;
    }
    free(raw);
    *out_n = n;
    *len = 0;
    return body;
}

/* Serves one connection until it closes; false when it was parked. */
static bool serve_conn(eu_server *s, int fd)
{
    SSL *ssl = NULL;
    if (s->tls) {
        ssl = SSL_new(s->tls);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) != 1)
            goto done;
    }
    for (;;) {
        static char buf[1 << 16];
        size_t len = 0, head = 0;
        while (!head) {
            ssize_t k = recv_some(ssl, fd, buf + len, sizeof(buf) - 1 - len);
            if (k <= 0)
                goto done;
            len += (size_t)k;
            buf[len] = 0;
            char *e = strstr(buf, "\r\n\r\n");
            if (e)
                head = (size_t)(e - buf) + 4;
        }
        __atomic_fetch_add(&s->requests, 1, __ATOMIC_SEQ_CST);
        char path[256] = "";
        sscanf(buf, "%*s %255s", path);
        char hdr[512];
        if (strncmp(path, "/silent", 7) == 0) {
            if (s->nparked < 16) {
                s->parked[s->nparked++] = fd;
                SSL_free(ssl); /* the socket stays open and says nothing */
                return false;
            }
            goto done;
        } else if (strcmp(path, "/hello") == 0) {
            const char *b = "hello from upstream";
            snprintf(hdr, sizeof(hdr),
                     "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %zu\r\n\r\n",
                     strlen(b));
            if (send_all(ssl, fd, hdr, strlen(hdr)) || send_all(ssl, fd, b, strlen(b)))
                goto done;
        } else if (strcmp(path, "/echo") == 0) {
            size_t n = 0;
            char *body = read_body(ssl, fd, buf, &len, head, &n);
            snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\ncontent-length: %zu\r\n\r\n", n);
            int rc = send_all(ssl, fd, hdr, strlen(hdr)) || send_all(ssl, fd, body, n);
            free(body);
            if (rc)
                goto done;
        } else if (strcmp(path, "/huge-headers") == 0) {
            size_t n = 200 * 1024;
            char *h = malloc(n + 128);
            int k = snprintf(h, 128, "HTTP/1.1 200 OK\r\nx-big: ");
            memset(h + k, 'a', n);
            memcpy(h + k + n, "\r\ncontent-length: 0\r\n\r\n", 23);
            send_all(ssl, fd, h, (size_t)k + n + 23);
            free(h);
            goto done;
        } else if (strcmp(path, "/truncated") == 0) {
            const char *r = "HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n0123456789";
            send_all(ssl, fd, r, strlen(r));
            goto done;
        } else if (strcmp(path, "/reset") == 0) {
            struct linger l = {1, 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
            goto done;
        } else if (strcmp(path, "/redirect") == 0) {
            const char *r = "HTTP/1.1 302 Found\r\nlocation: /hello\r\ncontent-length: 0\r\n\r\n";
            if (send_all(ssl, fd, r, strlen(r)))
                goto done;
        } else if (strncmp(path, "/big?n=", 7) == 0) {
            unsigned long long n = strtoull(path + 7, NULL, 10);
            snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\ncontent-length: %llu\r\n\r\n", n);
            if (send_all(ssl, fd, hdr, strlen(hdr)))
                goto done;
            static char chunk[65536];
            memset(chunk, 'x', sizeof(chunk));
            while (n) {
                size_t k = n > sizeof(chunk) ? sizeof(chunk) : (size_t)n;
                if (send_all(ssl, fd, chunk, k))
                    goto done;
                n -= k;
            }
        } else {
            const char *r = "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
            if (send_all(ssl, fd, r, strlen(r)))
                goto done;
        }
    }
done:
    if (ssl) {
        SSL_shutdown(ssl);
        SSL_free(ssl);
    }
    close(fd);
    return true;
}

static void *run(void *p)
{
    eu_server *s = p;
    for (;;) {
        struct pollfd pf[2] = {{s->lfd, POLLIN, 0}, {s->stop[0], POLLIN, 0}};
        if (poll(pf, 2, -1) < 0)
            continue;
        if (pf[1].revents)
            break;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd >= 0)
            serve_conn(s, fd);
    }
    return NULL;
}

eu_server *eu_start(eu_cert cert)
{
    eu_server *s = calloc(1, sizeof(*s));
    if (cert != EU_CERT_NONE) {
        pthread_once(&ca_once, ca_init);
        EVP_PKEY *k = new_key();
        X509 *x = cert == EU_CERT_EXPIRED
                      ? make_cert(k, "localhost", ca_cert, ca_key, -7200, -3600, false)
                      : make_cert(k, "localhost", ca_cert, ca_key, -3600, 86400, false);
        s->tls = SSL_CTX_new(TLS_server_method());
        SSL_CTX_use_certificate(s->tls, x);
        SSL_CTX_use_PrivateKey(s->tls, k);
        X509_free(x);
        EVP_PKEY_free(k);
    }
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    if (bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) || listen(s->lfd, 64) ||
        getsockname(s->lfd, (struct sockaddr *)&a, &al) || pipe(s->stop)) {
        close(s->lfd);
        SSL_CTX_free(s->tls);
        free(s);
        return NULL;
    }
    s->port = ntohs(a.sin_port);
    pthread_create(&s->th, NULL, run, s);
    return s;
}

int eu_port(const eu_server *s)
{
    return s->port;
}

uint64_t eu_requests(const eu_server *s)
{
    return __atomic_load_n(&s->requests, __ATOMIC_SEQ_CST);
}

void eu_stop(eu_server *s)
{
    if (!s)
        return;
    if (write(s->stop[1], "x", 1) != 1)
        return;
    pthread_join(s->th, NULL);
    for (int i = 0; i < s->nparked; i++)
        close(s->parked[i]);
    close(s->lfd);
    close(s->stop[0]);
    close(s->stop[1]);
    SSL_CTX_free(s->tls);
    free(s);
}
