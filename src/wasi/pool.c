/* The pool of ready instances of an app: after a request its instance is
 * reset (handles dropped, memories, tables and globals back to their state
 * right after instantiation) and kept for the next one, up to pool_max per
 * app; instances unused for pool_idle_ms are freed, so an idle app shrinks
 * back to nothing. A request that failed never gives its instance back. */
#include <string.h>

#include "internal.h"

typedef struct eos_wasi__pooled {
    eos_wasm_store *store;
    eos_cm_instance *inst;
    uint64_t idle_since_ns;
    pthread_t last; /* the thread that reset it, whose caches hold its pages */
} eos_wasi__pooled;

int eos_wasi__instantiate(eos_wasi_app *app, eos_wasi__ctx *ctx, eos_wasm_store **out_store,
                          eos_cm_instance **out_inst, eos_diag *diag)
{
    eos_wasm_limits lim = {.fuel = app->max_fuel, .max_memory_bytes = app->max_memory_bytes};
    int rc = eos_wasm_store_new(&lim, out_store);
    if (rc)
        return rc;
    eos_wasm_store_set_fuel(*out_store, app->max_fuel);
    eos_wasm_store_set_time_budget(*out_store, (uint64_t)app->max_time_ms * 1000000u);
    return eos_cm_instance_new(*out_store, app->component, app->host, ctx, out_inst, diag);
}

static void drop(eos_wasi__pooled *p)
{
    eos_cm_instance_free(p->inst);
    eos_wasm_store_free(p->store);
}

/* Moves the instances idle since before `before` out of the pool (they are
 * the oldest, at the bottom) into out; returns how many. Called locked. */
static uint32_t take_expired(eos_wasi_app *app, uint64_t before, eos_wasi__pooled *out,
                             uint32_t cap)
{
    uint32_t n = 0;
    while (n < app->pool_len && n < cap && app->pool[n].idle_since_ns < before)
        n++;
    memcpy(out, app->pool, n * sizeof(*out));
    memmove(app->pool, app->pool + n, (app->pool_len - n) * sizeof(*out));
    app->pool_len -= n;
    return n;
}

static void trim(eos_wasi_app *app, uint64_t idle_ns)
{
    eos_wasi__pooled old[8];
    uint32_t n;
    do {
        uint64_t now = eos_now_ns();
        pthread_mutex_lock(&app->pool_lock);
        n = take_expired(app, now > idle_ns ? now - idle_ns : 0, old, 8);
        pthread_mutex_unlock(&app->pool_lock);
        for (uint32_t k = 0; k < n; k++)
            drop(&old[k]);
    } while (n == 8);
}

int eos_wasi__acquire(eos_wasi_app *app, eos_wasi__ctx *ctx, eos_wasm_store **out_store,
                      eos_cm_instance **out_inst, bool *out_reusable, eos_diag *diag)
{
    *out_store = NULL;
    *out_inst = NULL;
    *out_reusable = false;
    bool room = false;
    if (app->pool_max) {
        trim(app, (uint64_t)app->pool_idle_ms * 1000000u);
        eos_wasi__pooled p = {0};
        pthread_mutex_lock(&app->pool_lock);
        if (app->pool_len) {
            /* The newest instance this thread last used, else the newest:
             * its pages and page tables are warm in this core's caches. */
            uint32_t k = app->pool_len - 1;
            for (uint32_t j = app->pool_len; j-- > 0;)
                if (pthread_equal(app->pool[j].last, pthread_self())) {
                    k = j;
                    break;
                }
            p = app->pool[k];
            memmove(app->pool + k, app->pool + k + 1, (app->pool_len - k - 1) * sizeof(p));
            app->pool_len--;
            app->pool_reused++;
            app->pool_out++;
        } else {
            app->pool_fresh++;
            /* Only as many instances as the pool holds are ever snapshotted:
             * past that, requests run on throwaway instances, which need no
             * snapshot. */
            room = app->pool_out < app->pool_max;
            if (room)
                app->pool_out++;
        }
        pthread_mutex_unlock(&app->pool_lock);
        if (p.inst) {
            eos_cm_instance_set_data(p.inst, ctx);
            eos_wasm_store_set_fuel(p.store, app->max_fuel);
            eos_wasm_store_set_time_budget(p.store, (uint64_t)app->max_time_ms * 1000000u);
            *out_store = p.store;
            *out_inst = p.inst;
            *out_reusable = true;
            return 0;
        }
    }
    int rc = eos_wasi__instantiate(app, ctx, out_store, out_inst, diag);
    /* The snapshot is the state every later request of this instance starts
     * from: taken before any call, it holds nothing of a request. */
    if (rc == 0 && room)
        *out_reusable = eos_cm_instance_snapshot(*out_inst) == 0;
    if (room && !*out_reusable) {
        pthread_mutex_lock(&app->pool_lock);
        app->pool_out--;
        pthread_mutex_unlock(&app->pool_lock);
    }
    return rc;
}

void eos_wasi__release(eos_wasi_app *app, eos_wasm_store *store, eos_cm_instance *inst,
                       bool reusable, bool ok)
{
    eos_wasi__pooled p = {store, inst, 0, pthread_self()};
    bool keep = inst && reusable && ok && eos_cm_instance_reset(inst, NULL) == 0;
    p.idle_since_ns = eos_now_ns();
    pthread_mutex_lock(&app->pool_lock);
    if (reusable)
        app->pool_out--;
    bool kept = keep && app->pool_len < app->pool_max;
    if (kept)
        app->pool[app->pool_len++] = p;
    pthread_mutex_unlock(&app->pool_lock);
    if (!kept)
        drop(&p);
}

int eos_wasi__pool_init(eos_wasi_app *app, uint32_t max, uint32_t idle_ms)
{
    pthread_mutex_init(&app->pool_lock, NULL);
    app->pool_max = max;
    app->pool_idle_ms = idle_ms;
    if (!max)
        return 0;
    app->pool = eos_calloc(max, sizeof(*app->pool));
    return app->pool ? 0 : EOS_ENOMEM;
}

void eos_wasi__pool_free(eos_wasi_app *app)
{
    for (uint32_t k = 0; k < app->pool_len; k++)
        drop(&app->pool[k]);
    eos_free(app->pool, app->pool_max * sizeof(*app->pool));
    app->pool = NULL;
    app->pool_len = 0;
    pthread_mutex_destroy(&app->pool_lock);
}

void eos_wasi_app_trim(eos_wasi_app *app, uint32_t idle_ms)
{
    trim(app, (uint64_t)idle_ms * 1000000u);
}

void eos_wasi_app_pool_stats(eos_wasi_app *app, eos_wasi_pool_stats *out)
{
    pthread_mutex_lock(&app->pool_lock);
    out->ready = app->pool_len;
    out->reused = app->pool_reused;
    out->fresh = app->pool_fresh;
    pthread_mutex_unlock(&app->pool_lock);
}
