/* The client connection: a blocking TCP socket with timeouts, a TLS 1.3
 * session, and the frame codec of the net layer for requests and responses. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "eos/client.h"

struct eos_client {
    eos_client_config cfg;
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    eos_proto_decoder *dec;
    uint8_t buf[16384];
    size_t buf_off;
    size_t buf_len;
};

void eos_client_config_init(eos_client_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->timeout_ms = 10000;
    cfg->max_frame_size = EOS_PROTO_DEFAULT_MAX_FRAME;
}

static int tls_error(eos_diag *d, const char *what)
{
    char buf[256] = "no detail";
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return eos_diag_set(d, EOS_ETLS, "tls", -1, "%s: %s", what, buf);
}

/* One TLS context for every client of the process: its settings never vary
 * per connection (SNI, ALPN and verification are per SSL), and creating a
 * context costs more than a handshake. */
static SSL_CTX *shared_ctx;
static pthread_once_t shared_once = PTHREAD_ONCE_INIT;

static void make_shared_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return;
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION)) {
        SSL_CTX_free(ctx);
        return;
    }
    /* Verification of the chain is the verify callback's job (RA-TLS). */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    shared_ctx = ctx;
}

/* Connects with a timeout, then switches the socket to blocking with
 * per-operation timeouts. Returns the fd or a negative eos_err. */
static int tcp_connect(const char *host, const char *port, unsigned timeout_ms, eos_diag *d)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    /* Numeric addresses first: that skips the resolver's configuration files. */
    hints.ai_flags |= AI_NUMERICHOST;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai == EAI_NONAME) {
        hints.ai_flags &= ~AI_NUMERICHOST;
        gai = getaddrinfo(host, port, &hints, &ai);
    }
    if (gai != 0)
        return eos_diag_set(d, EOS_EINVAL, "connect", -1, "cannot resolve '%s': %s", host,
                            gai_strerror(gai));
    int fd = -1, err = 0;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        err = errno;
        if (err == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int n = poll(&p, 1, (int)timeout_ms);
            socklen_t len = sizeof err;
            if (n == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
                break;
            if (n == 0)
                err = ETIMEDOUT;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0)
        return eos_diag_set(d, err == ETIMEDOUT ? EOS_ETIMEDOUT : EOS_ECLOSED, "connect", -1,
                            "cannot connect to %s:%s: %s (is the server running there?)", host,
                            port, strerror(err));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Maps a failed SSL_read/SSL_write/SSL_connect to an eos_err. */
static int io_error(eos_client *c, int ret, const char *what, eos_diag *d)
{
    int err = SSL_get_error(c->ssl, ret);
    if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 &&
                                         (ret == 0 || errno == ECONNRESET || errno == EPIPE))) {
        ERR_clear_error();
        return eos_diag_set(d, EOS_ECLOSED, what, -1, "%s: the server closed the connection", what);
    }
    if ((err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_SYSCALL) &&
        (errno == EAGAIN || errno == EWOULDBLOCK)) {
        ERR_clear_error();
        return eos_diag_set(d, EOS_ETIMEDOUT, what, -1, "%s: timed out after %u ms", what,
                            c->cfg.timeout_ms);
    }
    return tls_error(d, what);
}

static int split(char *buf, char **host, char **port)
{
    char *colon = strrchr(buf, ':');
    if (!colon || colon == buf || colon[1] == 0)
        return EOS_EINVAL;
    *colon = 0;
    *port = colon + 1;
    *host = buf;
    size_t n = strlen(buf);
    if (buf[0] == '[' && n >= 2 && buf[n - 1] == ']') {
        buf[n - 1] = 0;
        *host = buf + 1;
    }
    return 0;
}

int eos_client_connect(const eos_client_config *cfg, const char *hostport, eos_client **out,
                       eos_diag *d)
{
    int rc = EOS_ENOMEM;
    char addr[300];
    char *host, *port;
    eos_client *c = eos_calloc(1, sizeof *c);
    if (!c)
        return eos_diag_set(d, EOS_ENOMEM, "connect", -1, "out of memory");
    c->fd = -1;
    if (cfg)
        c->cfg = *cfg;
    else
        eos_client_config_init(&c->cfg);
    if (!c->cfg.timeout_ms)
        c->cfg.timeout_ms = 10000;
    if (strlen(hostport) >= sizeof addr ||
        (snprintf(addr, sizeof addr, "%s", hostport), split(addr, &host, &port) < 0)) {
        rc = eos_diag_set(d, EOS_EINVAL, "connect", -1,
                          "invalid address '%s': expected HOST:PORT such as 127.0.0.1:8443",
                          hostport);
        goto out;
    }
    eos_proto_decoder_config dcfg;
    eos_proto_decoder_config_init(&dcfg);
    if (c->cfg.max_frame_size)
        dcfg.max_frame_size = c->cfg.max_frame_size;
    rc = eos_proto_decoder_new(&dcfg, &c->dec);
    if (rc < 0)
        goto out;
    rc = tcp_connect(host, port, c->cfg.timeout_ms, d);
    if (rc < 0)
        goto out;
    c->fd = rc;
    pthread_once(&shared_once, make_shared_ctx);
    if (!shared_ctx || !SSL_CTX_up_ref(shared_ctx)) {
        rc = tls_error(d, "creating the TLS context");
        goto out;
    }
    c->ctx = shared_ctx;
    c->ssl = SSL_new(c->ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) {
        rc = tls_error(d, "creating the TLS session");
        goto out;
    }
    const char *sni = c->cfg.server_name;
    struct in6_addr tmp;
    if (!sni && inet_pton(AF_INET, host, &tmp) != 1 && inet_pton(AF_INET6, host, &tmp) != 1)
        sni = host;
    if (sni)
        SSL_set_tlsext_host_name(c->ssl, sni);
    if (c->cfg.alpn) {
        size_t n = strlen(c->cfg.alpn);
        uint8_t proto[256];
        if (n == 0 || n > 255) {
            rc = eos_diag_set(d, EOS_EINVAL, "connect", -1, "ALPN name must be 1..255 bytes");
            goto out;
        }
        proto[0] = (uint8_t)n;
        memcpy(proto + 1, c->cfg.alpn, n);
        SSL_set_alpn_protos(c->ssl, proto, (unsigned)n + 1);
    }
    int ret = SSL_connect(c->ssl);
    if (ret != 1) {
        char what[360];
        snprintf(what, sizeof what, "TLS handshake with %s failed", hostport);
        rc = io_error(c, ret, what, d);
        if (rc == EOS_ECLOSED) {
            rc = EOS_ETLS; /* the message already says the peer closed during the handshake */
            if (d)
                d->code = rc;
        }
        goto out;
    }
    if (c->cfg.verify) {
        rc = c->cfg.verify(c->cfg.verify_ud, c->ssl, d);
        if (rc < 0)
            goto out;
    }
    rc = 0;
out:
    if (rc < 0) {
        eos_client_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

int eos_client_send_raw(eos_client *c, const uint8_t *bytes, size_t size, eos_diag *d)
{
    size_t off = 0;
    while (off < size) {
        size_t n = size - off > (1u << 30) ? (1u << 30) : size - off;
        int w = SSL_write(c->ssl, bytes + off, (int)n);
        if (w <= 0)
            return io_error(c, w, "send", d);
        off += (size_t)w;
    }
    return 0;
}

int eos_client_send_frame(eos_client *c, const uint8_t *payload, size_t size, eos_diag *d)
{
    uint8_t *frame = NULL;
    size_t frame_size = 0;
    int rc = eos_proto_frame_encode(payload, size, &frame, &frame_size);
    if (rc < 0)
        return eos_diag_set(d, rc, "send", -1, "cannot build a frame of %zu bytes: %s", size,
                            eos_strerror(rc));
    rc = eos_client_send_raw(c, frame, frame_size, d);
    eos_free(frame, frame_size);
    return rc;
}

int eos_client_recv_raw(eos_client *c, uint8_t *buf, size_t cap, size_t *out_n, eos_diag *d)
{
    *out_n = 0;
    if (cap == 0)
        return 0;
    if (c->buf_off < c->buf_len) {
        size_t n = c->buf_len - c->buf_off < cap ? c->buf_len - c->buf_off : cap;
        memcpy(buf, c->buf + c->buf_off, n);
        c->buf_off += n;
        *out_n = n;
        return 0;
    }
    int n = SSL_read(c->ssl, buf, cap > (1u << 30) ? (int)(1u << 30) : (int)cap);
    if (n > 0) {
        *out_n = (size_t)n;
        return 0;
    }
    int rc = io_error(c, n, "receive", d);
    return rc == EOS_ECLOSED ? 0 : rc;
}

int eos_client_send_msg(eos_client *c, eos_proto_msg_kind kind, const uint8_t *bytes, size_t size,
                        eos_diag *d)
{
    uint8_t *frame = NULL;
    size_t frame_size = 0;
    int rc = eos_proto_msg_encode(kind, bytes, size, &frame, &frame_size);
    if (rc < 0)
        return eos_diag_set(d, rc, "send", -1, "cannot encode the message: %s", eos_strerror(rc));
    rc = eos_client_send_raw(c, frame, frame_size, d);
    eos_free(frame, frame_size);
    return rc;
}

int eos_client_recv_msg(eos_client *c, const uint8_t **out_bytes, size_t *out_size, eos_diag *d)
{
    for (;;) {
        if (c->buf_off == c->buf_len) {
            int n = SSL_read(c->ssl, c->buf, sizeof c->buf);
            if (n <= 0)
                return io_error(c, n, "receive", d);
            c->buf_off = 0;
            c->buf_len = (size_t)n;
        }
        size_t used = 0;
        eos_diag fd;
        eos_diag_init(&fd);
        int rc =
            eos_proto_decoder_feed(c->dec, c->buf + c->buf_off, c->buf_len - c->buf_off, &used, &fd);
        c->buf_off += used;
        if (rc == EOS_EAGAIN)
            continue;
        if (rc < 0)
            return eos_diag_set(d, rc == EOS_ENOMEM ? EOS_ENOMEM : EOS_EPROTO, "receive", -1,
                                "malformed response from the server: %s", fd.message);
        size_t size = 0;
        const uint8_t *bytes = eos_proto_decoder_bytes(c->dec, &size);
        if (out_bytes)
            *out_bytes = bytes;
        if (out_size)
            *out_size = size;
        return rc;
    }
}

int eos_client_ping(eos_client *c, uint64_t *out_rtt_ns, eos_diag *d)
{
    uint64_t t0 = eos_now_ns();
    int rc = eos_client_send_msg(c, EOS_PROTO_MSG_PING, NULL, 0, d);
    if (rc < 0)
        return rc;
    const uint8_t *bytes = NULL;
    size_t size = 0;
    rc = eos_client_recv_msg(c, &bytes, &size, d);
    if (rc < 0)
        return rc;
    if (out_rtt_ns)
        *out_rtt_ns = eos_now_ns() - t0;
    if (rc == EOS_PROTO_MSG_PONG)
        return 0;
    if (rc == EOS_PROTO_MSG_ERROR)
        return eos_diag_set(d, EOS_EPROTO, "ping", -1,
                            "the server answered Ping with an error: %.*s",
                            (int)(size > 400 ? 400 : size), (const char *)bytes);
    return eos_diag_set(d, EOS_EPROTO, "ping", -1, "the server answered Ping with %s",
                        eos_proto_msg_name((eos_proto_msg_kind)rc));
}

const char *eos_client_tls_version(const eos_client *c)
{
    return SSL_get_version(c->ssl);
}

const char *eos_client_cipher(const eos_client *c)
{
    return SSL_get_cipher_name(c->ssl);
}

void eos_client_close(eos_client *c)
{
    if (!c)
        return;
    if (c->ssl) {
        if (SSL_is_init_finished(c->ssl))
            SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    ERR_clear_error();
    SSL_CTX_free(c->ctx);
    if (c->fd >= 0)
        close(c->fd);
    eos_proto_decoder_free(c->dec);
    eos_free(c, sizeof *c);
}
