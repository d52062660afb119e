/* The test server behind tls_server.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "tls_server.h"

struct test_tls_server {
    eos_ratls_server *srv;
    SSL_CTX *ctx;
    int fd;
    int serve_manifest;
    atomic_int stop;
    pthread_t thread;
    int threaded;
};

static int read_full(SSL *ssl, uint8_t *b, size_t n)
{
    size_t got = 0, r;
    while (got < n) {
        if (SSL_read_ex(ssl, b + got, n - got, &r) != 1)
            return -1;
        got += r;
    }
    return 0;
}

static void send_frame_bytes(SSL *ssl, const char *tag, const char *doc, size_t doc_size)
{
    size_t cap = 32 + doc_size * 4, n;
    char *f = malloc(cap), *p = f + 4;
    p += sprintf(p, "{\"%s\":[", tag);
    for (size_t i = 0; i < doc_size; i++)
        p += sprintf(p, "%s%u", i ? "," : "", (unsigned char)doc[i]);
    p += sprintf(p, "]}");
    n = (size_t)(p - f - 4);
    f[0] = (char)(n >> 24);
    f[1] = (char)(n >> 16);
    f[2] = (char)(n >> 8);
    f[3] = (char)n;
    size_t w;
    SSL_write_ex(ssl, f, n + 4, &w);
    free(f);
}

static void serve_conn(test_tls_server *t, int cfd)
{
    SSL *ssl = SSL_new(t->ctx);
    struct timeval tv = {5, 0};
    setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    SSL_set_fd(ssl, cfd);
    if (SSL_accept(ssl) != 1)
        goto out;
    for (;;) {
        uint8_t hdr[4];
        if (read_full(ssl, hdr, 4) != 0)
            break;
        size_t n = (size_t)hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3];
        if (n > (1u << 20))
            break;
        char *body = malloc(n + 1);
        if (read_full(ssl, (uint8_t *)body, n) != 0) {
            free(body);
            break;
        }
        body[n] = 0;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) /* clients may put spaces after commas */
            if (body[i] != ' ')
                body[k++] = body[i];
        body[k] = 0;
        /* The only request understood: {"Data":[bytes of {"config_manifest":{}}]},
         * recognised by its byte list, which is all this test server needs. */
        int is_manifest = strstr(body, "\"Data\"") && strstr(body, "99,111,110,102,105,103");
        free(body);
        if (is_manifest && t->serve_manifest) {
            char *json;
            size_t size;
            if (eos_ratls_server_manifest_json(t->srv, &json, &size) == 0) {
                send_frame_bytes(ssl, "Data", json, size);
                eos_free(json, size + 1);
            }
        } else {
            static const char msg[] = "unsupported request";
            send_frame_bytes(ssl, "Error", msg, sizeof msg - 1);
        }
    }
out:
    SSL_shutdown(ssl);
    SSL_free(ssl);
    close(cfd);
    ERR_clear_error();
}

static void serve_loop(test_tls_server *t)
{
    while (!atomic_load(&t->stop)) {
        int cfd = accept(t->fd, NULL, NULL);
        if (cfd < 0) {
            if (atomic_load(&t->stop))
                break;
            continue;
        }
        serve_conn(t, cfd);
    }
}

static void *thread_main(void *arg)
{
    serve_loop(arg);
    return NULL;
}

int test_tls_server_start(eos_ratls_server *srv, int port, int serve_manifest,
                          test_tls_server **out, int *out_port)
{
    test_tls_server *t = calloc(1, sizeof *t);
    signal(SIGPIPE, SIG_IGN); /* a client that hangs up must not end the test */
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int one = 1;
    eos_diag d;
    eos_diag_init(&d);
    t->srv = srv;
    t->serve_manifest = serve_manifest;
    t->ctx = SSL_CTX_new(TLS_server_method());
    if (!t->ctx || eos_ratls_server_configure_ctx(srv, t->ctx, &d) != 0)
        return -1;
    t->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(t->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    if (bind(t->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(t->fd, 16) != 0)
        return -1;
    getsockname(t->fd, (struct sockaddr *)&a, &alen);
    *out_port = ntohs(a.sin_port);
    *out = t;
    t->threaded = 1;
    if (pthread_create(&t->thread, NULL, thread_main, t) != 0)
        return -1;
    return 0;
}

void test_tls_server_stop(test_tls_server *t)
{
    atomic_store(&t->stop, 1);
    shutdown(t->fd, SHUT_RDWR);
    if (t->threaded)
        pthread_join(t->thread, NULL);
    close(t->fd);
    SSL_CTX_free(t->ctx);
    free(t);
}
