/* The app threads and the jobs they run: the hand-off between a connection's
 * worker and the thread running its request. A job's request body and
 * response pass through two bounded buffers guarded by the job's mutex; the
 * app thread waits on the job's condition variable, the worker is woken
 * through its eventfd with the job on its wake list. The worker is the only
 * thread that touches the connection, so a connection never needs a lock. */
#include <errno.h>
#include <string.h>
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

static void *app_thread_main(void *arg)
{
    eos_net_server *srv = arg;
    eos_net__pool *p = &srv->pool;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stopping) {
            p->idle++;
            if (p->alive > p->base) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += EXTRA_IDLE_SEC;
                int r = pthread_cond_timedwait(&p->cond, &p->lock, &ts);
                p->idle--;
                if (r == ETIMEDOUT && !p->head && p->alive > p->base)
                    break;
            } else {
                pthread_cond_wait(&p->cond, &p->lock);
                p->idle--;
            }
        }
        eos_net__job *j = p->head;
        if (!j) {
            p->alive--;
            if (!p->stopping) {
                /* An extra thread leaving: the next spawn or the stop joins it. */
                pthread_t self = pthread_self();
                for (int i = 0; i < p->ntids; i++)
                    if (pthread_equal(p->tids[i], self)) {
                        p->tids[i] = p->tids[--p->ntids];
                        p->exited[p->nexited++] = self;
                        break;
                    }
            }
            pthread_mutex_unlock(&p->lock);
            return NULL;
        }
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        p->queued--;
        pthread_mutex_unlock(&p->lock);
        j->next = NULL;
        atomic_fetch_add(&p->busy, 1);
        j->run(j);
        atomic_fetch_sub(&p->busy, 1);
        pthread_mutex_lock(&j->lock);
        j->done = 1;
        pthread_mutex_unlock(&j->lock);
        eos_net__job_wake(j);
        eos_net__job_unref(j);
        pthread_mutex_lock(&p->lock);
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
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, APP_THREAD_STACK);
    int r = pthread_create(&p->tids[p->ntids], &attr, app_thread_main, srv);
    pthread_attr_destroy(&attr);
    if (r != 0)
        return EOS_ESYS;
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
        return eos_diag_set(d, EOS_ENOMEM, "server", -1, "out of memory starting app threads");
    }
    p->ready = 1;
    /* Requests beyond this wait nowhere: they get a 503 at once, which a
     * client can retry, rather than a queue that grows without bound. */
    p->max_queued = (size_t)nthreads * 64;
    pthread_mutex_lock(&p->lock);
    int rc = 0;
    for (int i = 0; i < nthreads && rc == 0; i++)
        rc = spawn(srv);
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
    pthread_mutex_unlock(&p->lock);
    /* No thread starts once stopping is set, so the lists are final. */
    for (int i = 0; i < p->ntids; i++)
        pthread_join(p->tids[i], NULL);
    for (int i = 0; i < p->nexited; i++)
        pthread_join(p->exited[i], NULL);
    eos_free(p->tids, (size_t)p->cap_tids * sizeof *p->tids);
    eos_free(p->exited, (size_t)p->cap_tids * sizeof *p->exited);
    p->tids = p->exited = NULL;
    p->ntids = p->nexited = 0;
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
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

int eos_net__job_submit(eos_net_server *srv, eos_net__job *j)
{
    eos_net__pool *p = &srv->pool;
    if (!p->ready)
        return EOS_EBUSY;
    pthread_mutex_lock(&p->lock);
    if (p->queued >= p->max_queued || p->stopping) {
        pthread_mutex_unlock(&p->lock);
        atomic_fetch_add(&p->rejected, 1);
        return EOS_EBUSY;
    }
    eos_net__job_ref(j);
    j->submitted = 1;
    j->next = NULL;
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->queued++;
    pthread_cond_signal(&p->cond);
    maybe_grow(srv);
    pthread_mutex_unlock(&p->lock);
    return 0;
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
