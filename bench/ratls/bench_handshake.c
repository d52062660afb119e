/* Handshake throughput of the RA-TLS server context against a plain P-256
 * self-signed context, measured in the same run over in-memory BIO pairs
 * (client and server in one thread, so both sides' CPU is counted):
 * full handshakes/s, resumed (TLS 1.3 ticket) handshakes/s, and the
 * challenge-mode rate, which signs a fresh leaf per connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "eos/ratls.h"

static const uint8_t nonce[32] = {1, 2, 3, 4, 5, 6, 7, 8};

static int ch_add(SSL *s, unsigned int t, unsigned int ctx, const unsigned char **out,
                  size_t *outlen, X509 *x, size_t ci, int *al, void *arg)
{
    if (!(ctx & SSL_EXT_CLIENT_HELLO))
        return 0;
    *out = nonce;
    *outlen = sizeof nonce;
    return 1;
}

static int ch_parse(SSL *s, unsigned int t, unsigned int ctx, const unsigned char *in, size_t inlen,
                    X509 *x, size_t ci, int *al, void *arg)
{
    return 1;
}

/* Thread CPU time: the machine is shared, so wall time would count other
 * processes' work against whichever context happened to run then. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Seconds spent inside server-side calls, the cost a server pays. */
static double server_time;

/* One handshake; returns 1 on success. With sess, reads the tickets and
 * returns the session through *sess. */
static int handshake(SSL_CTX *cctx, SSL_CTX *sctx, SSL_SESSION *resume, SSL_SESSION **sess)
{
    double t0 = now_s();
    SSL *s = SSL_new(sctx);
    server_time += now_s() - t0;
    SSL *c = SSL_new(cctx);
    BIO *cb, *sb;
    BIO_new_bio_pair(&cb, 0, &sb, 0);
    SSL_set_bio(c, cb, cb);
    SSL_set_bio(s, sb, sb);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    if (resume)
        SSL_set_session(c, resume);
    int ok = 0;
    for (int i = 0; i < 20; i++) {
        int rc = SSL_do_handshake(c);
        t0 = now_s();
        int rs = SSL_do_handshake(s);
        server_time += now_s() - t0;
        if (rc == 1 && rs == 1) {
            ok = 1;
            break;
        }
    }
    if (ok && sess) {
        uint8_t b[16];
        /* A byte of application data pushes the server's NewSessionTicket
         * messages out; the client's read processes them. */
        SSL_write(s, "x", 1);
        SSL_read(c, b, sizeof b);
        *sess = SSL_get1_session(c);
        if (*sess && !SSL_SESSION_is_resumable(*sess))
            fprintf(stderr, "session not resumable\n");
    }
    if (ok && resume && !SSL_session_reused(c))
        ok = 0;
    /* Marks a clean close: SSL_free on an unclosed connection would make
     * its session non-resumable. */
    SSL_set_shutdown(c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(c);
    t0 = now_s();
    SSL_set_shutdown(s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(s);
    server_time += now_s() - t0;
    ERR_clear_error();
    return ok;
}

/* Handshakes per second of server time (and, through *both, of client plus
 * server time) over about `seconds`. */
static double rate(SSL_CTX *cctx, SSL_CTX *sctx, int resumed, double seconds, double *both)
{
    SSL_SESSION *sess = NULL;
    if (resumed && (!handshake(cctx, sctx, NULL, &sess) || !sess)) {
        fprintf(stderr, "no session to resume\n");
        return 0;
    }
    long n = 0;
    server_time = 0;
    double t0 = now_s(), t;
    do {
        for (int i = 0; i < 20; i++)
            if (!handshake(cctx, sctx, sess, NULL)) {
                fprintf(stderr, "handshake failed\n");
                SSL_SESSION_free(sess);
                return 0;
            }
        n += 20;
        t = now_s() - t0;
    } while (t < seconds);
    SSL_SESSION_free(sess);
    if (both)
        *both += (double)n / t;
    return (double)n / server_time;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static SSL_CTX *plain_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"plain", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_sign(x, key, EVP_sha256());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_use_certificate(ctx, x);
    SSL_CTX_use_PrivateKey(ctx, key);
    X509_free(x);
    EVP_PKEY_free(key);
    return ctx;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    char dir[] = "/tmp/eos-bench-ratls-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    eos_log_set_level(EOS_LOG_WARN);
    eos_tee_config tc = {.kind = "sim", .data_dir = dir};
    eos_tee *tee = NULL;
    eos_ratls_server *srv = NULL;
    eos_diag d;
    eos_diag_init(&d);
    eos_ratls_server_options o = {.data_dir = dir};
    eos_ratls_app app = {.name = "bench", .route = "/bench"};
    eos_ratls_config cfg = {&app, 1, NULL, 0};
    if (eos_tee_open(&tc, &tee, &d) != 0 || eos_ratls_server_new(tee, &o, &srv, &d) != 0 ||
        eos_ratls_server_set_config(srv, &cfg, &d) != 0) {
        fprintf(stderr, "setup: %s\n", d.message);
        return 1;
    }
    SSL_CTX *ra = SSL_CTX_new(TLS_server_method());
    eos_ratls_server_configure_ctx(srv, ra, &d);
    SSL_CTX *plain = plain_ctx();
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
    SSL_CTX *cctx_ch = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(cctx_ch, TLS1_3_VERSION);
    SSL_CTX_add_custom_ext(cctx_ch, EOS_RATLS_CHALLENGE_EXT,
                           SSL_EXT_CLIENT_HELLO | SSL_EXT_TLS1_3_ENCRYPTED_EXTENSIONS, ch_add, NULL,
                           NULL, ch_parse, NULL);

    /* Interleave the two contexts in short paired rounds so drift on a shared
     * machine hits both, and report the median of the per-round ratios. */
    enum { ROUNDS = 9 };
    double fr[ROUNDS], rr[ROUNDS], fp = 0, fa = 0, rp = 0, ra_ = 0, bf = 0, br = 0;
    for (int round = 0; round < ROUNDS; round++) {
        double bp = 0, ba = 0, bpr = 0, bar = 0;
        double p1 = rate(cctx, plain, 0, secs / ROUNDS, &bp);
        double a1 = rate(cctx, ra, 0, secs / ROUNDS, &ba);
        double p2 = rate(cctx, plain, 1, secs / ROUNDS, &bpr);
        double a2 = rate(cctx, ra, 1, secs / ROUNDS, &bar);
        fr[round] = a1 / p1;
        rr[round] = a2 / p2;
        fp += p1 / ROUNDS;
        fa += a1 / ROUNDS;
        rp += p2 / ROUNDS;
        ra_ += a2 / ROUNDS;
        bf += ba / bp / ROUNDS;
        br += bar / bpr / ROUNDS;
    }
    qsort(fr, ROUNDS, sizeof fr[0], cmp_double);
    qsort(rr, ROUNDS, sizeof rr[0], cmp_double);
    double b_chal = 0;
    double chal = rate(cctx_ch, ra, 0, secs / 3, &b_chal);
    printf("ratls handshake benchmark (TLS 1.3, P-256, in-memory; handshakes per second of "
           "server CPU time)\n");
    printf("  full     plain %7.0f  ra-tls %7.0f  ratio median %.3f (min %.3f max %.3f; "
           "client+server %.3f)  target >= 0.9\n",
           fp, fa, fr[ROUNDS / 2], fr[0], fr[ROUNDS - 1], bf);
    printf("  resumed  plain %7.0f  ra-tls %7.0f  ratio median %.3f (min %.3f max %.3f; "
           "client+server %.3f)  target >= 0.9\n",
           rp, ra_, rr[ROUNDS / 2], rr[0], rr[ROUNDS - 1], br);
    printf("  challenge mode (fresh leaf per connection) %7.0f  ratio to plain full %.3f\n", chal,
           chal / fp);
    SSL_CTX_free(ra);
    SSL_CTX_free(plain);
    SSL_CTX_free(cctx);
    SSL_CTX_free(cctx_ch);
    eos_ratls_server_free(srv);
    eos_tee_free(tee);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
