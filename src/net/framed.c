/* The framed management protocol (SPEC 2-3): Ping, Shutdown and Data frames.
 * Data requests (loads, calls into apps) run as jobs on the app threads and
 * are answered by the apps layer; frames behind one wait in the stash. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* The protocol's state on a connection. */
typedef struct framed_state {
    eos_proto_decoder *dec;
    eos_proto_request *req; /* NULL while a job has it */
} framed_state;

static void queue_msg(eos_net__conn *c, eos_proto_msg_kind kind, const char *text)
{
    uint8_t *frame = NULL;
    size_t size = 0;
    int rc =
        eos_proto_msg_encode(kind, (const uint8_t *)text, text ? strlen(text) : 0, &frame, &size);
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
    queue_msg(c, EOS_PROTO_MSG_ERROR, msg);
}

typedef struct framed_job {
    eos_net__job job; /* first */
    eos_apps *apps;
    eos_proto_request *req; /* lent by the connection while the job runs */
    int authorised;
    char who[64];                   /* the peer, for the audit log of secret operations */
    X509 *cert;                     /* the client's certificate (a reference), or NULL */
    STACK_OF(X509) * chain;         /* and its chain (references), or NULL */
} framed_job;

static void run_data(eos_net__job *j)
{
    framed_job *fj = (framed_job *)j;
    char *resp = NULL;
    size_t size = 0;
    uint8_t *frame = NULL;
    size_t fsize = 0;
    eos_apps_caller caller = {fj->who, fj->cert, fj->chain};
    int rc = eos_apps_handle_as(fj->apps, fj->req, fj->authorised, &caller, &resp, &size);
    if (rc < 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "the server could not answer: %s", eos_strerror(rc));
        rc = eos_proto_msg_encode(EOS_PROTO_MSG_ERROR, (const uint8_t *)msg, strlen(msg), &frame,
                                &fsize);
    } else {
        rc = eos_proto_msg_encode(EOS_PROTO_MSG_DATA, (const uint8_t *)resp, size, &frame, &fsize);
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
    eos_proto_request_free(fj->req);
    X509_free(fj->cert);
    sk_X509_pop_free(fj->chain, X509_free);
    eos_free(fj, sizeof *fj);
}

static void handle_data(eos_net__conn *c)
{
    framed_state *fs = c->ps;
    eos_diag d;
    eos_diag_init(&d);
    int rc = eos_proto_request_finish(fs->req, &d);
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
    fj->apps = c->w->srv->apps;
    fj->authorised = eos_net__conn_authorised(c);
    snprintf(fj->who, sizeof fj->who, "%s", c->peer);
    /* The job runs on an app thread: it holds its own references. */
    STACK_OF(X509) *chain = NULL;
    X509 *cert = c->tr->peer_cert ? c->tr->peer_cert(c, &chain) : NULL;
    if (cert && X509_up_ref(cert))
        fj->cert = cert;
    if (chain)
        fj->chain = X509_chain_up_ref(chain);
    /* Calls into apps may compute for long: they queue apart from loads and
     * unloads, so management never waits behind them. */
    if (eos_proto_request_op(fs->req) == EOS_PROTO_OP_WASM_CALL)
        eos_net__job_set_lane(&fj->job, EOS_NET__LANE_CALLS, 0);
    /* The request moves to the job until it is answered. */
    fj->req = fs->req;
    if (eos_net__job_submit(c->w->srv, &fj->job) < 0) {
        fj->req = NULL;
        eos_net__job_unref(&fj->job);
        queue_error(c, "server busy: every app thread is taken; try again shortly");
        return;
    }
    fs->req = NULL;
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
    queue_msg(c, EOS_PROTO_MSG_OK, NULL);
    c->close_after_flush = 1;
    eos_net_server_stop(srv);
}

static void handle_message(eos_net__conn *c, eos_proto_msg_kind kind)
{
    atomic_fetch_add(&c->w->srv->metrics.frames, 1);
    switch (kind) {
    case EOS_PROTO_MSG_PING:
        queue_msg(c, EOS_PROTO_MSG_PONG, NULL);
        break;
    case EOS_PROTO_MSG_SHUTDOWN:
        handle_shutdown(c);
        break;
    case EOS_PROTO_MSG_DATA:
        handle_data(c);
        break;
    default:
        queue_error(c,
                    "\"%s\" is a response, not a request; send \"Ping\", \"Shutdown\" or "
                    "{\"Data\": [...]}",
                    eos_proto_msg_name(kind));
        break;
    }
}

static framed_state *start(eos_net__conn *c)
{
    framed_state *fs = eos_calloc(1, sizeof *fs);
    if (!fs)
        return NULL;
    eos_proto_decoder_config cfg;
    eos_proto_decoder_config_init(&cfg);
    cfg.max_frame_size = c->w->srv->cfg.max_frame_size;
    cfg.sink = eos_proto_request_feed;
    int rc = eos_proto_request_new(0, &fs->req);
    if (rc == 0) {
        cfg.sink_ud = fs->req;
        rc = eos_proto_decoder_new(&cfg, &fs->dec);
    }
    if (rc < 0) {
        eos_proto_request_free(fs->req);
        eos_free(fs, sizeof *fs);
        return NULL;
    }
    c->ps = fs;
    return fs;
}

static void framed_input(eos_net__conn *c, const uint8_t *data, size_t size)
{
    framed_state *fs = c->ps;
    if (!fs && !(fs = start(c))) {
        EOS_WARN("net", "%s: out of memory starting the protocol; closing", c->peer);
        c->close_after_flush = 1;
        return;
    }
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
        int rc = eos_proto_decoder_feed(fs->dec, data + off, size - off, &used, &d);
        off += used;
        if (rc == EOS_EAGAIN)
            continue;
        if (rc > 0) {
            handle_message(c, (eos_proto_msg_kind)rc);
        } else if (eos_proto_decoder_dead(fs->dec)) {
            EOS_INFO("net", "%s: %s", c->peer, d.message);
            queue_error(c, "%s", d.message);
            c->close_after_flush = 1;
        } else {
            EOS_DEBUG("net", "%s: bad frame: %s", c->peer, d.message);
            queue_error(c, "%s", d.message);
        }
        if (fs->req)
            eos_proto_request_reset(fs->req);
    }
}

static void framed_pump(eos_net__conn *c)
{
    framed_state *fs = c->ps;
    if (!c->job || c->out.len - c->out.off >= EOS_NET__OUT_HIGH_WATER)
        return;
    framed_job *fj = (framed_job *)c->job;
    int r = eos_net__job_take(c->job, &c->out);
    if (r == 0)
        return;
    if (r < 0) {
        EOS_WARN("net", "%s: out of memory passing on a response; closing", c->peer);
        c->close_after_flush = 1;
        eos_net__job_detach(c->job);
        c->job = NULL;
        return;
    }
    fs->req = fj->req;
    fj->req = NULL;
    eos_proto_request_reset(fs->req);
    c->job = NULL;
    eos_net__job_release(&fj->job);
    eos_net__conn_resume(c);
}

static int framed_busy(const eos_net__conn *c)
{
    const framed_state *fs = c->ps;
    return fs && fs->dec && eos_proto_decoder_in_frame(fs->dec);
}

static int framed_expire(eos_net__conn *c)
{
    (void)c;
    return 0;
}

static void framed_free(eos_net__conn *c)
{
    framed_state *fs = c->ps;
    if (!fs)
        return;
    eos_proto_decoder_free(fs->dec);
    eos_proto_request_free(fs->req);
    eos_free(fs, sizeof *fs);
    c->ps = NULL;
}

const eos_net__protocol eos_net__proto_framed = {
    .name = "framed",
    .input = framed_input,
    .pump = framed_pump,
    .busy = framed_busy,
    .expire = framed_expire,
    .free = framed_free,
};
