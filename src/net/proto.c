/* What the bytes after the TLS handshake mean: the first bytes pick HTTP or
 * the framed management protocol (SPEC 2), then each protocol turns input
 * into responses (HTTP itself lives in http.c). Data requests (loads, calls
 * into apps) run as jobs on the app threads; frames behind one wait. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char *const http_methods[] = {"GET ", "POST", "PUT ", "HEAD", "DELE",
                                           "OPTI", "PATC", "CONN", "TRAC"};

static void queue_msg(eos_net__conn *c, eos_net_msg_kind kind, const char *text)
{
    uint8_t *frame = NULL;
    size_t size = 0;
    int rc =
        eos_net_msg_encode(kind, (const uint8_t *)text, text ? strlen(text) : 0, &frame, &size);
    if (rc == 0)
        rc = eos_net__conn_queue(c, frame, size);
    eos_free(frame, size);
    if (rc < 0) {
        EOS_WARN("net", "%s: cannot queue a response (%s); closing", c->peer, eos_strerror(rc));
        c->close_after_flush = 1;
    }
}

static void queue_error(eos_net__conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void queue_error(eos_net__conn *c, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    queue_msg(c, EOS_NET_MSG_ERROR, msg);
}

int eos_net__conn_authorised(eos_net__conn *c)
{
    eos_net_server *srv = c->w->srv;
    if (srv->cfg.dev && c->loopback)
        return 1;
    if (srv->cfg.management_ca) {
        X509 *peer = SSL_get0_peer_certificate(c->ssl);
        if (peer && SSL_get_verify_result(c->ssl) == X509_V_OK)
            return 1;
    }
    return 0;
}

typedef struct framed_job {
    eos_net__job job; /* first */
    eos_net_server *srv;
    eos_net_request *req; /* lent by the connection while the job runs */
    int authorised;
} framed_job;

static void run_data(eos_net__job *j)
{
    framed_job *fj = (framed_job *)j;
    char *resp = NULL;
    size_t size = 0;
    uint8_t *frame = NULL;
    size_t fsize = 0;
    int rc = eos_net__mgmt_handle(fj->srv, fj->req, fj->authorised, &resp, &size);
    if (rc < 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "the server could not answer: %s", eos_strerror(rc));
        rc = eos_net_msg_encode(EOS_NET_MSG_ERROR, (const uint8_t *)msg, strlen(msg), &frame,
                                &fsize);
    } else {
        rc = eos_net_msg_encode(EOS_NET_MSG_DATA, (const uint8_t *)resp, size, &frame, &fsize);
        eos_free(resp, size + 1);
    }
    if (rc == 0)
        rc = eos_net__job_write(j, frame, fsize);
    eos_free(frame, fsize);
    if (rc < 0 && rc != EOS_ECLOSED)
        EOS_WARN("net", "cannot queue a response (%s)", eos_strerror(rc));
}

static void destroy_data(eos_net__job *j)
{
    framed_job *fj = (framed_job *)j;
    eos_net_request_free(fj->req);
    eos_free(fj, sizeof *fj);
}

static void handle_data(eos_net__conn *c)
{
    eos_diag d;
    eos_diag_init(&d);
    int rc = eos_net_request_finish(c->req, &d);
    /* A document that is not a well-formed request gets an Error frame
     * (SPEC 3); a well-formed request that fails gets a status "error"
     * document inside Data. */
    if (rc < 0) {
        queue_error(c, "%s", d.message);
        return;
    }
    framed_job *fj = eos_calloc(1, sizeof *fj);
    if (!fj || eos_net__job_init(&fj->job, c, run_data, destroy_data) < 0) {
        eos_free(fj, sizeof *fj);
        queue_error(c, "the server could not answer: out of memory");
        return;
    }
    fj->srv = c->w->srv;
    fj->authorised = eos_net__conn_authorised(c);
    /* The request moves to the job until it is answered. */
    fj->req = c->req;
    if (eos_net__job_submit(c->w->srv, &fj->job) < 0) {
        fj->req = NULL;
        eos_net__job_unref(&fj->job);
        queue_error(c, "server busy: every app thread is taken; try again shortly");
        return;
    }
    c->req = NULL;
    c->job = &fj->job;
    c->input_paused = 1;
}

static void handle_shutdown(eos_net__conn *c)
{
    eos_net_server *srv = c->w->srv;
    if (!eos_net__conn_authorised(c)) {
        EOS_WARN("net", "%s: Shutdown refused", c->peer);
        queue_error(c, "unauthorized: Shutdown needs a management client certificate, or a "
                       "loopback client of a server started with --dev");
        return;
    }
    EOS_WARN("net", "%s: Shutdown requested", c->peer);
    queue_msg(c, EOS_NET_MSG_OK, NULL);
    c->close_after_flush = 1;
    eos_net_server_stop(srv);
}

static void handle_message(eos_net__conn *c, eos_net_msg_kind kind)
{
    atomic_fetch_add(&c->w->srv->metrics.frames, 1);
    switch (kind) {
    case EOS_NET_MSG_PING:
        queue_msg(c, EOS_NET_MSG_PONG, NULL);
        break;
    case EOS_NET_MSG_SHUTDOWN:
        handle_shutdown(c);
        break;
    case EOS_NET_MSG_DATA:
        handle_data(c);
        break;
    default:
        queue_error(c,
                    "\"%s\" is a response, not a request; send \"Ping\", \"Shutdown\" or "
                    "{\"Data\": [...]}",
                    eos_net_msg_name(kind));
        break;
    }
}

static int start_framed(eos_net__conn *c)
{
    eos_net_decoder_config cfg;
    eos_net_decoder_config_init(&cfg);
    cfg.max_frame_size = c->w->srv->cfg.max_frame_size;
    cfg.sink = eos_net_request_feed;
    int rc = eos_net_request_new(0, &c->req);
    if (rc == 0) {
        cfg.sink_ud = c->req;
        rc = eos_net_decoder_new(&cfg, &c->dec);
    }
    return rc;
}

static void framed_input(eos_net__conn *c, const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size && !c->close_after_flush) {
        if (c->job) {
            /* Frames behind a running request wait for its answer. */
            eos_net__conn_stash(c, data + off, size - off);
            return;
        }
        eos_diag d;
        eos_diag_init(&d);
        size_t used = 0;
        int rc = eos_net_decoder_feed(c->dec, data + off, size - off, &used, &d);
        off += used;
        if (rc == EOS_EAGAIN)
            continue;
        if (rc > 0) {
            handle_message(c, (eos_net_msg_kind)rc);
        } else if (eos_net_decoder_dead(c->dec)) {
            EOS_INFO("net", "%s: %s", c->peer, d.message);
            queue_error(c, "%s", d.message);
            c->close_after_flush = 1;
        } else {
            EOS_DEBUG("net", "%s: bad frame: %s", c->peer, d.message);
            queue_error(c, "%s", d.message);
        }
        if (c->req)
            eos_net_request_reset(c->req);
    }
}

static void framed_pump(eos_net__conn *c)
{
    if (c->out_len - c->out_off >= EOS_NET__OUT_HIGH_WATER)
        return;
    framed_job *fj = (framed_job *)c->job;
    int r = eos_net__job_take(c->job, c);
    if (r == 0)
        return;
    if (r < 0) {
        EOS_WARN("net", "%s: out of memory passing on a response; closing", c->peer);
        c->close_after_flush = 1;
        eos_net__job_detach(c->job);
        c->job = NULL;
        return;
    }
    c->req = fj->req;
    fj->req = NULL;
    eos_net_request_reset(c->req);
    c->job = NULL;
    eos_net__job_release(&fj->job);
    eos_net__conn_resume(c);
}

void eos_net__proto_pump(eos_net__conn *c)
{
    if (c->state == CONN_HTTP)
        eos_net__http_pump(c);
    else if (c->state == CONN_FRAMED && c->job)
        framed_pump(c);
}

/* Decides the protocol from the first bytes. A frame's first byte is the top
 * byte of its length, below 0x20 for any frame under 512 MiB, while every
 * HTTP method starts with an upper-case letter; the first four bytes confirm
 * a method. Returns 1 when decided. */
static int sniff(eos_net__conn *c)
{
    if (c->sniff[0] < 'A' || c->sniff[0] > 'Z') {
        c->state = CONN_FRAMED;
        return 1;
    }
    if (c->sniff_len < 4)
        return 0;
    c->state = CONN_FRAMED;
    for (size_t i = 0; i < EOS_ARRAY_LEN(http_methods); i++)
        if (memcmp(c->sniff, http_methods[i], 4) == 0)
            c->state = CONN_HTTP;
    return 1;
}

void eos_net__proto_input(eos_net__conn *c, const uint8_t *data, size_t size)
{
    if (c->state == CONN_SNIFF) {
        size_t take = 4 - c->sniff_len;
        if (take > size)
            take = size;
        memcpy(c->sniff + c->sniff_len, data, take);
        c->sniff_len += take;
        data += take;
        size -= take;
        if (!sniff(c))
            return;
        EOS_DEBUG("net", "%s: protocol %s", c->peer, c->state == CONN_HTTP ? "HTTP/1.1" : "framed");
        if (c->state == CONN_FRAMED) {
            if (start_framed(c) < 0) {
                EOS_WARN("net", "%s: out of memory starting the protocol; closing", c->peer);
                c->close_after_flush = 1;
                return;
            }
            framed_input(c, c->sniff, c->sniff_len);
        } else {
            eos_net__http_input(c, c->sniff, c->sniff_len);
        }
    }
    if (c->state == CONN_FRAMED)
        framed_input(c, data, size);
    else if (c->state == CONN_HTTP && !c->close_after_flush && size)
        eos_net__http_input(c, data, size);
}

void eos_net__proto_free(eos_net__conn *c)
{
    eos_net_decoder_free(c->dec);
    eos_net_request_free(c->req);
    c->dec = NULL;
    c->req = NULL;
    eos_net__http_free(c);
    if (c->job) {
        eos_net__job_detach(c->job);
        c->job = NULL;
    }
}
