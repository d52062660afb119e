/* A worker thread: one epoll loop owning its connections, idle timeouts and
 * the drain on shutdown.
 *
 * How connections reach workers: every worker adds the one shared listening
 * socket to its own epoll with EPOLLEXCLUSIVE, so the kernel wakes a single
 * idle worker per incoming connection and that worker accepts it. Compared
 * with SO_REUSEPORT this keeps one socket (no other process of the same user
 * can bind the port beside us and receive a share of the management
 * connections, and stopping to accept is one close), and unlike a dedicated
 * acceptor thread there is no hand-off queue between threads. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

#define MAX_EVENTS   64
#define ACCEPT_BATCH 32
#define LISTEN_TAG   ((void *)1)
#define STOP_TAG     ((void *)2)
#define WAKE_TAG     ((void *)3)

static void listen_ctl(eos_net__worker *w, int on)
{
    if (on == w->listening)
        return;
    if (on) {
        struct epoll_event e = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = LISTEN_TAG};
        if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->srv->listen_fd, &e) == 0)
            w->listening = 1;
    } else {
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->srv->listen_fd, NULL);
        w->listening = 0;
    }
}

static void accept_some(eos_net__worker *w)
{
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd =
            accept4(w->srv->listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: stop accepting briefly instead of
                 * spinning on a listening socket that stays readable. */
                EOS_WARN("net", "accept: %s; pausing new connections for 100 ms", strerror(errno));
                listen_ctl(w, 0);
                w->accept_resume_ns = eos_now_ns() + 100000000ull;
            }
            return;
        }
        eos_net__conn_open(w, fd, (struct sockaddr *)&ss, len);
    }
}

static void start_drain(eos_net__worker *w)
{
    if (w->draining)
        return;
    w->draining = 1;
    uint64_t ms = w->srv->cfg.drain_timeout_ms;
    w->drain_deadline_ns = eos_now_ns() + ms * 1000000ull;
    listen_ctl(w, 0);
    epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->srv->stop_fd, NULL);
    /* Idle connections go now; those with a request in flight finish it. */
    eos_net__conn *c = w->head;
    while (c) {
        eos_net__conn *next = c->next;
        if (!c->proto || eos_net__conn_quiescent(c))
            eos_net__conn_close(c, "server shutting down");
        c = next;
    }
}

/* Closes connections idle past the timeout; returns ms until the next expiry. */
static int expire_idle(eos_net__worker *w, uint64_t now)
{
    uint64_t idle = (uint64_t)w->srv->cfg.idle_timeout_ms * 1000000ull;
    while (w->head && now - w->head->last_active_ns >= idle) {
        eos_net__conn *c = w->head;
        if (c->job && c->job->submitted && !atomic_load(&c->job->waiting)) {
            /* Its app is computing, bounded by fuel: not the client's idling. */
            eos_net__conn_touch(c);
            continue;
        }
        EOS_INFO("net", "%s: idle for %u ms; closing", c->peer, w->srv->cfg.idle_timeout_ms);
        eos_net__conn_expire(c);
    }
    if (!w->head)
        return 1000;
    uint64_t left = w->head->last_active_ns + idle - now;
    return (int)(left / 1000000ull) + 1;
}

void eos_net__worker_reap(eos_net__worker *w)
{
    while (w->graveyard) {
        eos_net__conn *c = w->graveyard;
        w->graveyard = c->grave_next;
        eos_free(c, sizeof *c);
    }
}

static void run_ready(eos_net__worker *w)
{
    eos_net__conn *list = w->ready;
    w->ready = NULL;
    while (list) {
        eos_net__conn *c = list;
        list = c->ready_next;
        c->ready_next = NULL;
        c->in_ready = 0;
        eos_net__conn_event(c, EPOLLIN);
    }
}

/* The worker's side of the job hand-off: app threads queue jobs with news on
 * the wake list and write the eventfd once per batch. */
static eos_net__job *take_wake_list(eos_net__worker *w)
{
    pthread_mutex_lock(&w->wake_lock);
    eos_net__job *list = w->wake_head;
    w->wake_head = NULL;
    pthread_mutex_unlock(&w->wake_lock);
    return list;
}

void eos_net__worker_wake(eos_net__worker *w)
{
    uint64_t v;
    ssize_t r = read(w->wake_fd, &v, sizeof v);
    (void)r;
    eos_net__job *list = take_wake_list(w);
    while (list) {
        eos_net__job *j = list;
        /* Once in_wake is clear an app thread may queue j again, which
         * rewrites wake_next: read it first, under the lock. News arriving
         * after this point is seen by the run below or queues j anew. */
        pthread_mutex_lock(&w->wake_lock);
        list = j->wake_next;
        j->in_wake = 0;
        pthread_mutex_unlock(&w->wake_lock);
        /* Only the worker clears j->conn, and it does so when the connection
         * closes or lets go of the job, so a non-NULL conn here is alive. */
        if (j->conn && !j->conn->dead)
            eos_net__conn_event(j->conn, 0);
        eos_net__job_unref(j);
    }
}

void eos_net__worker_wake_clear(eos_net__worker *w)
{
    eos_net__job *list = take_wake_list(w);
    while (list) {
        eos_net__job *j = list;
        list = j->wake_next;
        eos_net__job_unref(j);
    }
}

/* The workers watch stop_fd: a stop is a write to it. */
void eos_net_server_stop(eos_net_server *srv)
{
    atomic_store(&srv->stopping, 1);
    uint64_t one = 1;
    /* write() is async-signal-safe; a full counter already means "stop". */
    ssize_t r = write(srv->stop_fd, &one, sizeof one);
    (void)r;
}

void *eos_net__worker_main(void *arg)
{
    eos_net__worker *w = arg;
    eos_net_server *srv = w->srv;
    struct epoll_event events[MAX_EVENTS];
    /* Writing to a connection the peer already closed must fail with EPIPE,
     * not kill the process, whatever the embedding program does with SIGPIPE. */
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, NULL);
    /* The stop eventfd stays readable once written (it is never read), so
     * every worker sees it. */
    struct epoll_event se = {.events = EPOLLIN, .data.ptr = STOP_TAG};
    epoll_ctl(w->epfd, EPOLL_CTL_ADD, srv->stop_fd, &se);
    struct epoll_event we = {.events = EPOLLIN, .data.ptr = WAKE_TAG};
    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wake_fd, &we);
    if (!atomic_load(&srv->stopping))
        listen_ctl(w, 1);
    for (;;) {
        uint64_t now = eos_now_ns();
        if (atomic_load(&srv->stopping))
            start_drain(w);
        if (w->draining) {
            if (w->nconns == 0 && !w->ready)
                break;
            if (now >= w->drain_deadline_ns) {
                EOS_WARN("net",
                         "worker %d: %ld connection(s) still busy at the drain deadline; "
                         "closing them",
                         w->id, w->nconns);
                while (w->head)
                    eos_net__conn_close(w->head, "drain deadline");
                break;
            }
        }
        int timeout = expire_idle(w, now);
        if (!w->listening && !w->draining) {
            if (now >= w->accept_resume_ns)
                listen_ctl(w, 1);
            else if (timeout > 100)
                timeout = 100;
        }
        if (w->draining && timeout > 100)
            timeout = 100;
        if (w->ready)
            timeout = 0;
        int n = epoll_wait(w->epfd, events, MAX_EVENTS, timeout);
        if (n < 0 && errno != EINTR) {
            EOS_ERROR("net", "worker %d: epoll_wait: %s", w->id, strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            void *p = events[i].data.ptr;
            if (p == LISTEN_TAG) {
                if (!w->draining)
                    accept_some(w);
            } else if (p == WAKE_TAG) {
                eos_net__worker_wake(w);
            } else if (p == STOP_TAG) {
                /* Handled at the top of the loop: closing connections here
                 * could free ones that later events in this batch name. */
                continue;
            } else {
                eos_net__conn *c = p;
                /* The connection may have been closed earlier in this batch
                 * only by itself, and closed connections are removed from
                 * epoll before their memory is released. */
                eos_net__conn_event(c, events[i].events);
            }
        }
        run_ready(w);
        eos_net__worker_reap(w);
    }
    /* Leaving: connections closed on the way out, and those that were only
     * waiting in the ready list, are freed here. */
    w->ready = NULL;
    eos_net__worker_reap(w);
    return NULL;
}
