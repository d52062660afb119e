/* The metrics page (GET /.well-known/enclave-os/metrics) in the Prometheus
 * text format: the server's counters, the app threads and their lanes, and
 * per-app requests, fuel, outgoing calls and tiers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* A growing text on the eos allocator (the metrics page). */
typedef struct text_buf {
    char *p;
    size_t len, cap;
    int failed;
} text_buf;

static void tb_printf(text_buf *tb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tb_printf(text_buf *tb, const char *fmt, ...)
{
    if (tb->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(tb->p ? tb->p + tb->len : NULL, tb->cap - tb->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            tb->failed = 1;
            return;
        }
        if ((size_t)n < tb->cap - tb->len) {
            tb->len += (size_t)n;
            return;
        }
        size_t cap = tb->cap ? tb->cap * 2 : 4096;
        while (cap < tb->len + (size_t)n + 1)
            cap *= 2;
        char *np = eos_realloc(tb->p, tb->cap, cap);
        if (!np) {
            tb->failed = 1;
            return;
        }
        tb->p = np;
        tb->cap = cap;
    }
}

typedef struct lane_pass {
    text_buf *f;
    int what; /* 0 in flight, 1 queued, 2 rejected, 3 dropped: one metric family per pass */
} lane_pass;

/* One app's share of the app threads, for the metrics. */
static void lane_metrics(void *arg, const eos_net__lane *l)
{
    lane_pass *lp = arg;
    /* App names are [a-z0-9._-] and start with a letter or digit; the
     * server's own work is "-" (management) and "-calls" (wasm_call). */
    const char *app = l->name[0] ? l->name : "-";
    if (lp->what == 0)
        tb_printf(lp->f, "enclave_os_app_in_flight{app=\"%s\"} %zu\n", app, l->running);
    else if (lp->what == 1)
        tb_printf(lp->f, "enclave_os_app_queued{app=\"%s\"} %zu\n", app, l->queued);
    else if (lp->what == 2)
        tb_printf(lp->f, "enclave_os_app_rejected_total{app=\"%s\"} %llu\n", app, l->rejected);
    else
        tb_printf(lp->f, "enclave_os_app_dropped_total{app=\"%s\"} %llu\n", app, l->dropped);
}

/* One metric without labels, with its TYPE line. */
static void counter(text_buf *f, const char *name, unsigned long long v)
{
    tb_printf(f, "# TYPE %s counter\n%s %llu\n", name, name, v);
}

static void gauge(text_buf *f, const char *name, long long v)
{
    tb_printf(f, "# TYPE %s gauge\n%s %lld\n", name, name, v);
}

/* The per-app counters kept as uint64_t in eos_apps_stat, in page order. */
static const struct {
    const char *name;
    size_t off;
} app_counters[] = {
    {"enclave_os_app_requests_total", offsetof(eos_apps_stat, requests)},
    {"enclave_os_app_errors_total", offsetof(eos_apps_stat, errors)},
    {"enclave_os_app_fuel_total", offsetof(eos_apps_stat, fuel)},
    /* outgoing calls (wasi:http/outgoing-handler) */
    {"enclave_os_app_outbound_calls_total", offsetof(eos_apps_stat, outbound.calls)},
    {"enclave_os_app_outbound_denied_total", offsetof(eos_apps_stat, outbound.denied)},
    {"enclave_os_app_outbound_errors_total", offsetof(eos_apps_stat, outbound.errors)},
    {"enclave_os_app_outbound_bytes_out_total", offsetof(eos_apps_stat, outbound.bytes_out)},
    {"enclave_os_app_outbound_bytes_in_total", offsetof(eos_apps_stat, outbound.bytes_in)},
};

/* The families with one line per app (v: n apps, borrowed). */
static void app_metrics(text_buf *f, const eos_apps_stat *v, size_t n)
{
    for (size_t k = 0; k < EOS_ARRAY_LEN(app_counters); k++) {
        tb_printf(f, "# TYPE %s counter\n", app_counters[k].name);
        for (size_t i = 0; i < n; i++) {
            uint64_t c;
            memcpy(&c, (const char *)&v[i] + app_counters[k].off, sizeof c);
            tb_printf(f, "%s{app=\"%s\"} %llu\n", app_counters[k].name, v[i].name,
                      (unsigned long long)c);
        }
    }
    tb_printf(f, "# TYPE enclave_os_app_time_seconds_total counter\n");
    for (size_t i = 0; i < n; i++)
        tb_printf(f, "enclave_os_app_time_seconds_total{app=\"%s\"} %.6f\n", v[i].name,
                  (double)v[i].time_us / 1e6);
    /* The tier asked for and how far its compilation is (1 per app), then
     * the compilation's wall time. */
    tb_printf(f, "# TYPE enclave_os_app_tier gauge\n");
    for (size_t i = 0; i < n; i++)
        tb_printf(f, "enclave_os_app_tier{app=\"%s\",tier=\"%s\",compile=\"%s\"} 1\n", v[i].name,
                  eos_apps_tier_name(v[i].tier.requested),
                  eos_apps_compile_state_name(v[i].tier.state));
    tb_printf(f, "# TYPE enclave_os_app_compile_seconds gauge\n");
    for (size_t i = 0; i < n; i++)
        tb_printf(f, "enclave_os_app_compile_seconds{app=\"%s\"} %.6f\n", v[i].name,
                  (double)v[i].tier.compile_ns / 1e9);
    /* 1 when the app's native code was linked from the sealed code cache. */
    tb_printf(f, "# TYPE enclave_os_app_code_from_cache gauge\n");
    for (size_t i = 0; i < n; i++)
        tb_printf(f, "enclave_os_app_code_from_cache{app=\"%s\"} %d\n", v[i].name,
                  v[i].tier.state == EOS_WASM_COMPILE_READY && v[i].tier.from_cache);
}

int eos_net__metrics_text(eos_net_server *srv, char **out, size_t *out_len, size_t *out_cap)
{
    eos_net__metrics *m = &srv->metrics;
    text_buf tb = {0};
    text_buf *f = &tb;
    counter(f, "enclave_os_connections_total", m->connections);
    counter(f, "enclave_os_tls_handshakes_total", m->handshakes);
    counter(f, "enclave_os_http_requests_total", m->http_requests);
    counter(f, "enclave_os_http_errors_total", m->http_errors);
    counter(f, "enclave_os_frames_total", m->frames);
    counter(f, "enclave_os_app_loads_total", eos_apps_load_count(srv->apps));
    static const char *const le[EOS_NET__LAT_BUCKETS] = {"0.0005", "0.001", "0.0025", "0.005",
                                                         "0.01",   "0.025", "0.05",   "0.1",
                                                         "0.25",   "0.5",   "1",      "2.5"};
    tb_printf(f, "# TYPE enclave_os_request_duration_seconds histogram\n");
    unsigned long long cum = 0;
    for (size_t i = 0; i <= EOS_NET__LAT_BUCKETS; i++) {
        cum += m->lat[i];
        tb_printf(f, "enclave_os_request_duration_seconds_bucket{le=\"%s\"} %llu\n",
                  i < EOS_NET__LAT_BUCKETS ? le[i] : "+Inf", cum);
    }
    tb_printf(f, "enclave_os_request_duration_seconds_sum %.6f\n", (double)m->lat_sum_us / 1e6);
    tb_printf(f, "enclave_os_request_duration_seconds_count %llu\n", cum);
    size_t queued = 0;
    int threads = 0;
    if (srv->pool.ready) {
        pthread_mutex_lock(&srv->pool.lock);
        queued = srv->pool.queued;
        threads = srv->pool.alive;
        pthread_mutex_unlock(&srv->pool.lock);
    }
    gauge(f, "enclave_os_app_threads", threads);
    gauge(f, "enclave_os_app_threads_waiting_for_clients", atomic_load(&srv->pool.client_waits));
    gauge(f, "enclave_os_app_threads_busy", atomic_load(&srv->pool.busy));
    gauge(f, "enclave_os_app_queue_length", (long long)queued);
    counter(f, "enclave_os_app_queue_rejected_total", atomic_load(&srv->pool.rejected));
    counter(f, "enclave_os_store_tampering_detected_total", eos_apps_tamper_count());
    counter(f, "enclave_os_app_queue_dropped_total", atomic_load(&srv->pool.dropped));
    counter(f, "enclave_os_app_demotions_total", atomic_load(&srv->pool.demotions));
    static const char *const lane_types[4] = {
        "enclave_os_app_in_flight gauge", "enclave_os_app_queued gauge",
        "enclave_os_app_rejected_total counter", "enclave_os_app_dropped_total counter"};
    for (int i = 0; i < 4; i++) {
        lane_pass lp = {f, i};
        tb_printf(f, "# TYPE %s\n", lane_types[i]);
        eos_net__pool_lanes(srv, lane_metrics, &lp);
    }
    eos_apps_stat *v = NULL;
    size_t n = 0;
    if (eos_apps_stats(srv->apps, &v, &n) == 0) {
        app_metrics(f, v, n);
        eos_free(v, n * sizeof *v);
    }
    if (tb.failed) {
        eos_free(tb.p, tb.cap);
        *out = NULL;
        *out_len = *out_cap = 0;
        return EOS_ENOMEM;
    }
    *out = tb.p;
    *out_len = tb.len;
    *out_cap = tb.cap;
    return 0;
}
