/* libFuzzer target for everything a client sends after the TLS handshake:
 * protocol sniffing, HTTP/1.1 (the parser glue, limits, routing, the
 * well-known endpoints, pipelining, the 408 of a request cut short) and
 * framed requests, through the entry the worker itself uses, on a server
 * with no app, no network and no app threads, and the console's pages (its
 * live log answers 401: management is closed, as every PUT finds it).
 * The first input byte picks how the rest is cut into reads. */
#include <stdint.h>
#include <string.h>

#include "../../src/net/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static eos_net_server *srv;
static eos_net__worker worker;
static eos_console_log *console_log;

static int setup(void)
{
    eos_log_set_level(EOS_LOG_OFF);
    eos_net_server_config cfg;
    eos_net_server_config_init(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.max_header_size = 4096;
    cfg.max_body_size = 65536;
    cfg.max_frame_size = 1 << 16;
    cfg.console_test_tamper = 1;
    if (eos_console_log_new(8, &console_log) < 0)
        return -1;
    for (int i = 0; i < 10; i++)
        eos_console_log_append(console_log, "a line\nof the log", 17);
    cfg.console_log = console_log;
    eos_diag d;
    eos_diag_init(&d);
    if (eos_net_server_new(&cfg, &srv, &d) < 0)
        return -1;
    worker.srv = srv;
    worker.epfd = -1;
    worker.wake_fd = -1;
    pthread_mutex_init(&worker.wake_lock, NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready)
        ready = setup() == 0 ? 1 : -1;
    if (ready < 0 || size == 0)
        return 0;
    size_t chunk = (size_t)data[0] * 7 + 1;
    data++;
    size--;
    eos_net__conn *c = eos_calloc(1, sizeof *c);
    if (!c)
        return 0;
    c->w = &worker;
    c->fd = -1;
    /* The plain transport: no TLS session to set up or close. */
    c->tr = &eos_net__transport_tcp;
    c->proto = &eos_net__proto_sniff;
    strcpy(c->peer, "fuzz");
    worker.nconns++;
    eos_net__conn_touch(c);
    size_t off = 0;
    while (off < size && !c->dead && !c->close_after_flush) {
        size_t take = size - off < chunk ? size - off : chunk;
        c->proto->input(c, data + off, take);
        off += take;
        /* What would be written is dropped, as a client that reads it all. */
        c->out.off = c->out.len = 0;
    }
    if (!c->dead && c->proto == &eos_net__proto_http)
        c->proto->expire(c);
    eos_net__conn_close(c, "fuzz");
    worker.ready = NULL;
    eos_net__worker_reap(&worker);
    return 0;
}
