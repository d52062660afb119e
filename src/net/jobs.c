/* The app threads and the jobs they run: the hand-off between a connection's
 * worker and the thread running its request. A job's request body and
 * response pass through two bounded buffers guarded by the job's mutex; the
 * app thread waits on the job's condition variable, the worker is woken
 * through its eventfd with the job on its wake list. The worker is the only
 * thread that touches the connection, so a connection never needs a lock. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* Stack for app threads: wasm frames live on the engine's own stacks, but
 * decoding and validating a load recurses on this one, as on a worker. */
#define APP_THREAD_STACK ((size_t)8 << 20)
/* The app thread rechecks a wait this often, so a lost wake-up costs a delay,
 * never a hang. */
#define WAIT_SLICE_MS 1000

int eos_net__job_init(eos_net__job *j, eos_net__conn *c, eos_net__job_fn run,
                      eos_net__job_fn destroy)
{
    if (pthread_mutex_init(&j->lock, NULL) != 0)
        return EOS_ESYS;
    if (pthread_cond_init(&j->cond, NULL) != 0) {
        pthread_mutex_destroy(&j->lock);
        return EOS_ESYS;
    }
    atomic_init(&j->refs, 1);
    atomic_init(&j->waiting, 0);
    j->run = run;
    j->destroy = destroy;
    j->w = c->w;
    j->conn = c;
    return 0;
}

void eos_net__job_ref(eos_net__job *j)
{
    atomic_fetch_add(&j->refs, 1);
}

void eos_net__job_unref(eos_net__job *j)
{
    if (!j || atomic_fetch_sub(&j->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&j->lock);
    pthread_cond_destroy(&j->cond);
    eos_free(j->in, j->in_cap);
    eos_free(j->out, j->out_cap);
    j->destroy(j);
}

/* An extra thread leaves after this long without work. */
#define EXTRA_IDLE_SEC 30
/* Lanes kept for metrics; past this, idle lanes are dropped when one is added. */
#define MAX_IDLE_LANES 256

/* The next job to run, taking lanes in turn from the one after the last
 * served, skipping lanes at their limit; NULL when none may run now. The
 * pool's lock is held. */
static eos_net__job *pick(eos_net__pool *p)
{
    for (size_t k = 0; k < p->nlanes; k++) {
        size_t i = (p->rr + k) % p->nlanes;
        eos_net__lane *l = p->lanes[i];
        if (!l->head || l->running >= l->limit)
            continue;
        eos_net__job *j = l->head;
        l->head = j->next;
        if (!l->head)
            l->tail = NULL;
        l->queued--;
        l->running++;
        p->queued--;
        p->rr = i + 1;
        j->next = NULL;
        j->in_queue = 0;
        return j;
    }
    return NULL;
}

/* An app's request (its lane is named after the app), not the server's own
 * work, which runs whether or not its client stays. */
static int is_app_lane(const char *name)
{
    return name[0] && name[0] != '-';
}

static uint64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Sets thread tid's nice value; 0 or -1. */
static int set_nice(int tid, int nice)
{
    return setpriority(PRIO_PROCESS, (id_t)tid, nice);
}

/* The job of runner r ended: its thread gets its priority back. Returns -1
 * when that is refused (no CAP_SYS_NICE and a low RLIMIT_NICE): the thread
 * must then leave the pool, as it would slow every later request it ran.
 * The pool's lock is held, so the watcher cannot lower it in between. */
static int job_ended(eos_net__pool *p, eos_net__runner *r)
{
    r->job_start_ns = 0;
    if (!r->demoted)
        return 0;
    r->demoted = 0;
    if (set_nice(r->tid, p->base_nice) == 0)
        return 0;
    if (!p->demote_off)
        EOS_INFO("net", "app threads: a lowered priority cannot be restored (%s); long requests "
                        "are no longer deprioritised",
                 strerror(errno));
    p->demote_off = 1;
    return -1;
}

/* The watcher: lowers the priority of app threads whose job has run past the
 * slice. It sleeps while no job runs, and otherwise until the next job
 * reaches the slice. */
static void *watcher_main(void *arg)
{
    eos_net__pool *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stopping) {
        uint64_t now = mono_ns(), next = 0;
        for (eos_net__runner *r = p->runners; r; r = r->next) {
            if (!r->job_start_ns || r->demoted || p->demote_off)
                continue;
            uint64_t due = r->job_start_ns + EOS_NET__SLICE_NS;
            if (now >= due) {
                int nice = p->base_nice + EOS_NET__DEMOTE > 19 ? 19 : p->base_nice + EOS_NET__DEMOTE;
                if (set_nice(r->tid, nice) == 0) {
                    r->demoted = 1;
                    atomic_fetch_add(&p->demotions, 1);
                } else {
                    EOS_INFO("net", "app threads: cannot lower a thread's priority (%s)",
                             strerror(errno));
                    p->demote_off = 1;
                }
            } else if (!next || due < next) {
                next = due;
            }
        }
        if (next) {
            struct timespec ts = {(time_t)(next / 1000000000u), (long)(next % 1000000000u)};
            pthread_cond_timedwait(&p->watch, &p->lock, &ts);
        } else {
            p->watcher_idle = 1;
            pthread_cond_wait(&p->watch, &p->lock);
            p->watcher_idle = 0;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* The thread leaves the pool; the pool's lock is held. */
static void leave(eos_net__pool *p, eos_net__runner *r)
{
    p->alive--;
    for (eos_net__runner **pp = &p->runners; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    eos_free(r, sizeof *r);
    if (!p->stopping) {
        /* The next spawn or the stop joins it. */
        pthread_t self = pthread_self();
        for (int i = 0; i < p->ntids; i++)
            if (pthread_equal(p->tids[i], self)) {
                p->tids[i] = p->tids[--p->ntids];
                p->exited[p->nexited++] = self;
                break;
            }
    }
}

static void *app_thread_main(void *arg)
{
    eos_net__runner *r = arg;
    eos_net_server *srv = r->srv;
    eos_net__pool *p = &srv->pool;
    pthread_mutex_lock(&p->lock);
    r->tid = (int)syscall(SYS_gettid);
    /* Threads inherit their creator's priority, which may be a demoted one;
     * one that cannot be raised is restored (or leaves) after its first job. */
    if (getpriority(PRIO_PROCESS, (id_t)r->tid) != p->base_nice &&
        set_nice(r->tid, p->base_nice) != 0)
        r->demoted = 1;
    for (;;) {
        eos_net__job *j;
        /* Stopping, queued jobs still run: their clients get their answers. */
        while (!(j = pick(p)) && !(p->stopping && p->queued == 0)) {
            p->idle++;
            if (p->alive > p->base || p->stopping) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += p->stopping ? 1 : EXTRA_IDLE_SEC;
                int rc = pthread_cond_timedwait(&p->cond, &p->lock, &ts);
                p->idle--;
                if (rc == ETIMEDOUT && !p->stopping && p->alive > p->base)
                    break;
            } else {
                pthread_cond_wait(&p->cond, &p->lock);
                p->idle--;
            }
        }
        if (!j) {
            leave(p, r);
            pthread_mutex_unlock(&p->lock);
            return NULL;
        }
        r->job_start_ns = mono_ns();
        if (p->watcher_idle)
            pthread_cond_signal(&p->watch);
        pthread_mutex_unlock(&p->lock);
        /* An app's request whose client left while it queued is not run:
         * its answer has nowhere to go. (Loads and calls still run.) */
        pthread_mutex_lock(&j->lock);
        int skip = j->gone && is_app_lane(j->lane_name);
        pthread_mutex_unlock(&j->lock);
        atomic_fetch_add(&p->busy, 1);
        if (!skip)
            j->run(j);
        atomic_fetch_sub(&p->busy, 1);
        /* Its lane has room again: a job waiting behind the limit may go. */
        pthread_mutex_lock(&p->lock);
        int stuck = job_ended(p, r) < 0;
        eos_net__lane *l = j->lane;
        j->lane = NULL;
        l->running--;
        if (skip) {
            l->dropped++;
            atomic_fetch_add(&p->dropped, 1);
        }
        if (l->queued)
            pthread_cond_signal(&p->cond);
        if (stuck)
            p->respawn++;
        pthread_mutex_unlock(&p->lock);
        pthread_mutex_lock(&j->lock);
        j->done = 1;
        pthread_mutex_unlock(&j->lock);
        eos_net__job_wake(j);
        eos_net__job_unref(j);
        pthread_mutex_lock(&p->lock);
        if (stuck) {
            /* A worker starts its replacement (see eos_net__job_submit). */
            leave(p, r);
            pthread_cond_signal(&p->cond);
            pthread_mutex_unlock(&p->lock);
            return NULL;
        }
    }
}

/* Starts a thread; the pool's lock is held. */
static int spawn(eos_net_server *srv)
{
    eos_net__pool *p = &srv->pool;
    /* Threads that left are gone for good: join them now (at once, as they
     * only had their exit left to run). */
    while (p->nexited)
        pthread_join(p->exited[--p->nexited], NULL);
    if (p->ntids == p->cap_tids)
        return EOS_ELIMIT;
    eos_net__runner *run = eos_calloc(1, sizeof *run);
    if (!run)
        return EOS_ENOMEM;
    run->srv = srv;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, APP_THREAD_STACK);
    int r = pthread_create(&p->tids[p->ntids], &attr, app_thread_main, run);
    pthread_attr_destroy(&attr);
    if (r != 0) {
        eos_free(run, sizeof *run);
        return EOS_ESYS;
    }
    run->next = p->runners;
    p->runners = run;
    p->ntids++;
    p->alive++;
    return 0;
}

/* Jobs wait while threads sit waiting for slow clients: add a thread. The
 * pool's lock is held. Jobs waiting behind computing threads get none, as
 * more threads than cores would not make them finish sooner. */
static void maybe_grow(eos_net_server *srv)
{
    eos_net__pool *p = &srv->pool;
    if (p->stopping || p->queued <= (size_t)p->idle || p->alive >= p->max ||
        atomic_load(&p->client_waits) == 0)
        return;
    if (spawn(srv) == 0)
        EOS_DEBUG("net", "app threads: %d (jobs wait while threads wait for clients)", p->alive);
}

int eos_net__pool_start(eos_net_server *srv, int nthreads, eos_diag *d)
{
    eos_net__pool *p = &srv->pool;
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->watch, &ca);
    pthread_condattr_destroy(&ca);
    errno = 0;
    p->base_nice = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
    if (errno)
        p->base_nice = 0;
    p->base = nthreads;
    p->max = nthreads > 256 ? 1024 : 4 * nthreads;
    p->cap_tids = p->max;
    p->tids = eos_calloc((size_t)p->max, sizeof *p->tids);
    p->exited = eos_calloc((size_t)p->max, sizeof *p->exited);
    if (!p->tids || !p->exited) {
        eos_free(p->tids, (size_t)p->max * sizeof *p->tids);
        eos_free(p->exited, (size_t)p->max * sizeof *p->exited);
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->cond);
        pthread_cond_destroy(&p->watch);
        return eos_diag_set(d, EOS_ENOMEM, "server", -1, "out of memory starting app threads");
    }
    p->ready = 1;
    /* Requests beyond this wait nowhere: they get a 503 at once, which a
     * client can retry, rather than a queue that grows without bound. */
    p->max_queued = (size_t)nthreads * 64;
    p->lane_max_queued = (size_t)nthreads * 16;
    /* Half the threads per app, and one core fewer than the machine has:
     * an app computing flat out then leaves the others threads and a core
     * (more threads than cores would not finish its requests sooner). */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned limit = nthreads > 1 ? (unsigned)nthreads / 2 : 1;
    if (cpus > 1 && (unsigned long)(cpus - 1) < limit)
        limit = (unsigned)(cpus - 1);
    p->default_limit = limit ? limit : 1;
    pthread_mutex_lock(&p->lock);
    int rc = 0;
    for (int i = 0; i < nthreads && rc == 0; i++)
        rc = spawn(srv);
    if (rc == 0 && pthread_create(&p->watcher, NULL, watcher_main, p) == 0)
        p->watcher_started = 1;
    pthread_mutex_unlock(&p->lock);
    if (rc < 0) {
        eos_net__pool_stop(srv);
        return eos_diag_set(d, EOS_ESYS, "server", -1, "cannot start %d app threads", nthreads);
    }
    return 0;
}

void eos_net__pool_stop(eos_net_server *srv)
{
    eos_net__pool *p = &srv->pool;
    if (!p->ready)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_cond_signal(&p->watch);
    pthread_mutex_unlock(&p->lock);
    if (p->watcher_started)
        pthread_join(p->watcher, NULL);
    p->watcher_started = 0;
    /* No thread starts once stopping is set, so the lists are final. */
    for (int i = 0; i < p->ntids; i++)
        pthread_join(p->tids[i], NULL);
    for (int i = 0; i < p->nexited; i++)
        pthread_join(p->exited[i], NULL);
    eos_free(p->tids, (size_t)p->cap_tids * sizeof *p->tids);
    eos_free(p->exited, (size_t)p->cap_tids * sizeof *p->exited);
    p->tids = p->exited = NULL;
    for (size_t i = 0; i < p->nlanes; i++)
        eos_free(p->lanes[i], sizeof *p->lanes[i]);
    eos_free(p->lanes, p->cap_lanes * sizeof *p->lanes);
    p->lanes = NULL;
    p->nlanes = p->cap_lanes = 0;
    p->ntids = p->nexited = 0;
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    pthread_cond_destroy(&p->watch);
    p->ready = 0;
}

/* The app thread is about to wait for its client. */
static void client_wait_begin(eos_net__job *j)
{
    eos_net_server *srv = j->w->srv;
    atomic_store(&j->waiting, 1);
    atomic_fetch_add(&srv->pool.client_waits, 1);
    pthread_mutex_lock(&srv->pool.lock);
    maybe_grow(srv);
    pthread_mutex_unlock(&srv->pool.lock);
}

static void client_wait_end(eos_net__job *j)
{
    atomic_store(&j->waiting, 0);
    atomic_fetch_sub(&j->w->srv->pool.client_waits, 1);
}

void eos_net__job_set_lane(eos_net__job *j, const char *name, unsigned limit)
{
    snprintf(j->lane_name, sizeof j->lane_name, "%s", name ? name : "");
    j->lane_limit = limit;
}

/* The lane named name, made when missing; NULL when out of memory. The
 * pool's lock is held. */
static eos_net__lane *lane_of(eos_net__pool *p, const char *name)
{
    for (size_t i = 0; i < p->nlanes; i++)
        if (strcmp(p->lanes[i]->name, name) == 0)
            return p->lanes[i];
    if (p->nlanes >= MAX_IDLE_LANES) {
        /* Forget lanes with nothing queued or running (gone apps, mostly). */
        size_t k = 0;
        for (size_t i = 0; i < p->nlanes; i++) {
            eos_net__lane *l = p->lanes[i];
            if (l->queued || l->running)
                p->lanes[k++] = l;
            else
                eos_free(l, sizeof *l);
        }
        p->nlanes = k;
        p->rr = 0;
    }
    if (p->nlanes == p->cap_lanes) {
        size_t cap = p->cap_lanes ? 2 * p->cap_lanes : 16;
        eos_net__lane **v = eos_realloc(p->lanes, p->cap_lanes * sizeof *v, cap * sizeof *v);
        if (!v)
            return NULL;
        p->lanes = v;
        p->cap_lanes = cap;
    }
    eos_net__lane *l = eos_calloc(1, sizeof *l);
    if (!l)
        return NULL;
    snprintf(l->name, sizeof l->name, "%s", name);
    p->lanes[p->nlanes++] = l;
    return l;
}

int eos_net__job_submit(eos_net_server *srv, eos_net__job *j)
{
    eos_net__pool *p = &srv->pool;
    if (!p->ready)
        return EOS_EBUSY;
    pthread_mutex_lock(&p->lock);
    eos_net__lane *l = p->stopping ? NULL : lane_of(p, j->lane_name);
    if (!l || p->queued >= p->max_queued || l->queued >= p->lane_max_queued) {
        if (l)
            l->rejected++;
        pthread_mutex_unlock(&p->lock);
        atomic_fetch_add(&p->rejected, 1);
        return EOS_EBUSY;
    }
    /* Threads that left with a priority they could not restore are replaced
     * from here: a worker's thread has the pool's own priority to pass on. */
    while (p->respawn && !p->stopping) {
        p->respawn--;
        if (spawn(srv) < 0)
            break;
    }
    /* The latest load's limit holds (a replacement may change it). */
    l->limit = j->lane_limit ? j->lane_limit : p->default_limit;
    eos_net__job_ref(j);
    j->submitted = 1;
    j->next = NULL;
    j->lane = l;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
    j->in_queue = 1;
    l->queued++;
    p->queued++;
    pthread_cond_signal(&p->cond);
    maybe_grow(srv);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

void eos_net__pool_lanes(eos_net_server *srv,
                         void (*fn)(void *arg, const struct eos_net__lane *l), void *arg)
{
    eos_net__pool *p = &srv->pool;
    if (!p->ready)
        return;
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->nlanes; i++)
        fn(arg, p->lanes[i]);
    pthread_mutex_unlock(&p->lock);
}

int eos_net__job_unqueue(eos_net_server *srv, eos_net__job *j)
{
    eos_net__pool *p = &srv->pool;
    if (!p->ready || !is_app_lane(j->lane_name))
        return 0;
    pthread_mutex_lock(&p->lock);
    eos_net__lane *l = j->lane;
    int found = 0;
    if (j->in_queue && l) {
        eos_net__job *prev = NULL;
        for (eos_net__job *q = l->head; q; prev = q, q = q->next)
            if (q == j) {
                found = 1;
                break;
            }
        if (found) {
            if (prev)
                prev->next = j->next;
            else
                l->head = j->next;
            if (l->tail == j)
                l->tail = prev;
            j->next = NULL;
            j->in_queue = 0;
            j->lane = NULL;
            l->queued--;
            p->queued--;
            l->dropped++;
            atomic_fetch_add(&p->dropped, 1);
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (found) {
        /* It will never run: the reference the app threads took goes, and
         * the connection's side sees it as finished. */
        pthread_mutex_lock(&j->lock);
        j->done = 1;
        pthread_mutex_unlock(&j->lock);
        eos_net__job_unref(j);
    }
    return found;
}

void eos_net__job_wake(eos_net__job *j)
{
    eos_net__worker *w = j->w;
    int first = 0;
    pthread_mutex_lock(&w->wake_lock);
    if (!j->in_wake) {
        j->in_wake = 1;
        eos_net__job_ref(j);
        first = w->wake_head == NULL;
        j->wake_next = w->wake_head;
        w->wake_head = j;
    }
    pthread_mutex_unlock(&w->wake_lock);
    /* One write per batch: the worker takes the whole list at once. */
    if (first) {
        uint64_t one = 1;
        ssize_t r = write(w->wake_fd, &one, sizeof one);
        (void)r;
    }
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 16384;
    while (n < need)
        n *= 2;
    uint8_t *nb = eos_realloc(*buf, *cap, n);
    if (!nb)
        return EOS_ENOMEM;
    *buf = nb;
    *cap = n;
    return 0;
}

int eos_net__job_feed(eos_net__job *j, const uint8_t *data, size_t size)
{
    pthread_mutex_lock(&j->lock);
    /* Compact: what the app read is gone, so the buffer stays near its bound. */
    if (j->in_off && j->in_off == j->in_len)
        j->in_off = j->in_len = 0;
    if (j->in_off > j->in_cap / 2) {
        memmove(j->in, j->in + j->in_off, j->in_len - j->in_off);
        j->in_len -= j->in_off;
        j->in_off = 0;
    }
    int rc = grow(&j->in, &j->in_cap, j->in_len + size);
    if (rc == 0) {
        memcpy(j->in + j->in_len, data, size);
        j->in_len += size;
        pthread_cond_signal(&j->cond);
        rc = j->in_len - j->in_off >= EOS_NET__JOB_IN_HIGH;
    }
    pthread_mutex_unlock(&j->lock);
    return rc;
}

void eos_net__job_end_input(eos_net__job *j, int status)
{
    pthread_mutex_lock(&j->lock);
    j->in_end = 1;
    if (status)
        j->in_error = status;
    pthread_cond_signal(&j->cond);
    pthread_mutex_unlock(&j->lock);
}

int eos_net__job_input_full(eos_net__job *j)
{
    pthread_mutex_lock(&j->lock);
    int full = j->in_len - j->in_off >= EOS_NET__JOB_IN_HIGH;
    pthread_mutex_unlock(&j->lock);
    return full;
}

int eos_net__job_in_error(eos_net__job *j)
{
    pthread_mutex_lock(&j->lock);
    int e = j->in_error;
    pthread_mutex_unlock(&j->lock);
    return e;
}

int eos_net__job_take(eos_net__job *j, eos_net__outbuf *ob)
{
    int rc = 0;
    pthread_mutex_lock(&j->lock);
    if (j->out_len) {
        int was_full = j->out_len >= EOS_NET__JOB_OUT_HIGH;
        if (ob->len == ob->off && !ob->retry) {
            /* Nothing pending on the connection: swap buffers, no copy. */
            uint8_t *b = ob->p;
            size_t cap = ob->cap;
            ob->p = j->out;
            ob->cap = j->out_cap;
            ob->off = 0;
            ob->len = j->out_len;
            j->out = b;
            j->out_cap = cap;
        } else {
            rc = eos_net__outbuf_add(ob, j->out, j->out_len);
        }
        if (rc == 0) {
            j->out_len = 0;
            if (was_full)
                pthread_cond_signal(&j->cond);
        }
    }
    if (rc == 0 && j->done && j->out_len == 0)
        rc = 1;
    pthread_mutex_unlock(&j->lock);
    return rc;
}

void eos_net__job_release(eos_net__job *j)
{
    j->conn = NULL; /* a wake-up still queued must not find the connection */
    eos_net__job_unref(j);
}

void eos_net__job_detach(eos_net__job *j)
{
    pthread_mutex_lock(&j->lock);
    j->gone = 1;
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
    eos_net__job_release(j);
}

static void wait_slice(eos_net__job *j)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += WAIT_SLICE_MS / 1000;
    pthread_cond_timedwait(&j->cond, &j->lock, &ts);
}

int eos_net__job_read(eos_net__job *j, uint8_t *buf, size_t cap, size_t *out_size)
{
    *out_size = 0;
    pthread_mutex_lock(&j->lock);
    if (j->in_len == j->in_off && !j->in_end && !j->gone) {
        pthread_mutex_unlock(&j->lock);
        client_wait_begin(j);
        pthread_mutex_lock(&j->lock);
        while (j->in_len == j->in_off && !j->in_end && !j->gone)
            wait_slice(j);
        client_wait_end(j);
    }
    int rc = 0;
    int wake = 0;
    if (j->gone) {
        rc = EOS_ECLOSED;
    } else if (j->in_len > j->in_off) {
        size_t avail = j->in_len - j->in_off;
        size_t n = avail < cap ? avail : cap;
        memcpy(buf, j->in + j->in_off, n);
        j->in_off += n;
        *out_size = n;
        /* Crossing below the high mark: the worker may resume reading. */
        wake = avail >= EOS_NET__JOB_IN_HIGH && avail - n < EOS_NET__JOB_IN_HIGH;
    } else if (j->in_error) {
        rc = EOS_EIO;
    }
    pthread_mutex_unlock(&j->lock);
    if (wake)
        eos_net__job_wake(j);
    return rc;
}

int eos_net__job_write(eos_net__job *j, const void *data, size_t size)
{
    pthread_mutex_lock(&j->lock);
    if (j->out_len >= EOS_NET__JOB_OUT_HIGH && !j->gone) {
        pthread_mutex_unlock(&j->lock);
        client_wait_begin(j);
        pthread_mutex_lock(&j->lock);
        while (j->out_len >= EOS_NET__JOB_OUT_HIGH && !j->gone)
            wait_slice(j);
        client_wait_end(j);
    }
    int rc = j->gone ? EOS_ECLOSED : grow(&j->out, &j->out_cap, j->out_len + size);
    if (rc == 0) {
        memcpy(j->out + j->out_len, data, size);
        j->out_len += size;
    }
    pthread_mutex_unlock(&j->lock);
    if (rc == 0)
        eos_net__job_wake(j);
    return rc;
}
