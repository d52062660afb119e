/* One connection on a worker: a non-blocking state machine over its
 * transport (TLS or plain TCP, whose reads and writes may each stop
 * halfway), output buffering with back-pressure, the protocol it speaks, and
 * a graceful close. The worker's epoll is level-triggered; interest follows
 * what the transport waits for. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

/* Largest plaintext handed to one transport write: a few records, so a big
 * response does not monopolise the worker. */
#define WRITE_CHUNK (64 * 1024)

void eos_net__conn_touch(eos_net__conn *c)
{
    eos_net__worker *w = c->w;
    uint64_t now = eos_now_ns();
    /* Only forward: the idle list must stay sorted by this stamp. */
    if (now > c->last_active_ns)
        c->last_active_ns = now;
    if (w->tail == c)
        return;
    /* Move to the tail: the list stays sorted by last activity, so expiry
     * only ever looks at the head. */
    if (c->prev || w->head == c) {
        if (c->prev)
            c->prev->next = c->next;
        else
            w->head = c->next;
        if (c->next)
            c->next->prev = c->prev;
    }
    c->prev = w->tail;
    c->next = NULL;
    if (w->tail)
        w->tail->next = c;
    else
        w->head = c;
    w->tail = c;
}

void eos_net__mark_ready(eos_net__conn *c)
{
    if (c->in_ready || c->dead)
        return;
    c->in_ready = 1;
    c->ready_next = c->w->ready;
    c->w->ready = c;
}

static void describe_peer(eos_net__conn *c, const struct sockaddr *sa)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
        c->loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
        c->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
                      (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127);
    }
    snprintf(c->peer, sizeof c->peer, sa->sa_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
}

static void set_interest(eos_net__conn *c)
{
    unsigned ev = 0;
    size_t pending = c->out.len - c->out.off;
    if (!c->proto) {
        ev = c->hs_wants_write ? EPOLLOUT : EPOLLIN;
    } else {
        int reading =
            !c->close_after_flush && !c->input_paused && pending < EOS_NET__OUT_HIGH_WATER;
        if (reading || c->write_wants_read)
            ev |= EPOLLIN;
        /* While a job holds the input, the peer's leaving is still watched
         * for: a request still queued is then dropped unrun. */
        if (c->job && c->input_paused && !c->peer_fin)
            ev |= EPOLLRDHUP;
        if ((pending && !c->write_wants_read) || c->read_wants_write)
            ev |= EPOLLOUT;
    }
    if (ev == c->events)
        return;
    struct epoll_event e = {.events = ev, .data.ptr = c};
    if (epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->fd, &e) == 0)
        c->events = ev;
}

int eos_net__conn_open(eos_net__worker *w, int fd, const struct sockaddr *peer, socklen_t peer_len)
{
    eos_net__conn *c = eos_calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return EOS_ENOMEM;
    }
    c->w = w;
    c->fd = fd;
    c->tr = w->srv->transport;
    describe_peer(c, peer);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int rc = c->tr->open(w->srv, c);
    if (rc < 0) {
        EOS_WARN("net", "%s: cannot set up the %s transport; closing", c->peer, c->tr->name);
        close(fd);
        eos_free(c, sizeof *c);
        return rc;
    }
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &e) != 0) {
        c->tr->close(c);
        close(fd);
        eos_free(c, sizeof *c);
        return EOS_ESYS;
    }
    c->events = EPOLLIN;
    w->nconns++;
    atomic_fetch_add(&w->srv->metrics.connections, 1);
    eos_net__conn_touch(c);
    EOS_DEBUG("net", "%s: connection accepted by worker %d", c->peer, w->id);
    return 0;
}

void eos_net__conn_close(eos_net__conn *c, const char *why)
{
    if (c->dead)
        return;
    c->dead = 1;
    EOS_DEBUG("net", "%s: closing (%s)", c->peer, why);
    eos_net__worker *w = c->w;
    c->tr->close(c);
    epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    /* Closing with unread input makes the kernel send a reset, which can
     * destroy a last answer (431, 400) the peer has not read yet: end our
     * side first and drop what the peer already sent (bounded, no waiting). */
    shutdown(c->fd, SHUT_WR);
    for (int i = 0; i < 64; i++)
        if (recv(c->fd, w->rbuf, sizeof w->rbuf, MSG_DONTWAIT) <= 0)
            break;
    close(c->fd);
    if (c->proto)
        c->proto->free(c);
    if (c->job) {
        eos_net__job_detach(c->job);
        c->job = NULL;
    }
    eos_free(c->out.p, c->out.cap);
    eos_free(c->stash, c->stash_cap);
    /* Unlink from the activity list. The memory itself is released by the
     * worker after the current pass (eos_net__worker_reap), because callers up
     * the stack and later events of the same epoll batch may still look at
     * c->dead. */
    if (c->prev)
        c->prev->next = c->next;
    else
        w->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        w->tail = c->prev;
    c->prev = c->next = NULL;
    w->nconns--;
    c->grave_next = w->graveyard;
    w->graveyard = c;
}

int eos_net__conn_queue(eos_net__conn *c, const uint8_t *bytes, size_t size)
{
    return eos_net__outbuf_add(&c->out, bytes, size);
}

void eos_net__conn_stash(eos_net__conn *c, const uint8_t *data, size_t size)
{
    if (size > c->stash_cap - c->stash_len) {
        size_t cap = c->stash_cap ? c->stash_cap : EOS_NET__READ_CHUNK;
        while (cap < c->stash_len + size)
            cap *= 2;
        uint8_t *nb = eos_realloc(c->stash, c->stash_cap, cap);
        if (!nb) {
            EOS_WARN("net", "%s: out of memory keeping pipelined input; closing", c->peer);
            c->close_after_flush = 1;
            return;
        }
        c->stash = nb;
        c->stash_cap = cap;
    }
    memcpy(c->stash + c->stash_len, data, size);
    c->stash_len += size;
}

void eos_net__conn_resume(eos_net__conn *c)
{
    c->input_paused = 0;
    if (c->stash_len) {
        /* Processing may pause and stash again: it gets a fresh stash. */
        uint8_t *buf = c->stash;
        size_t len = c->stash_len, cap = c->stash_cap;
        c->stash = NULL;
        c->stash_len = c->stash_cap = 0;
        c->proto->input(c, buf, len);
        eos_free(buf, cap);
    }
    if (!c->dead && !c->input_paused && !c->close_after_flush && c->tr->pending(c))
        eos_net__mark_ready(c);
}

int eos_net__conn_quiescent(const eos_net__conn *c)
{
    if (c->out.len > c->out.off || c->job)
        return 0;
    return !(c->proto && c->proto->busy(c));
}

int eos_net__conn_authorised(const eos_net__conn *c)
{
    const eos_net_server_config *cfg = &c->w->srv->cfg;
    if (cfg->dev && c->loopback)
        return 1;
    return cfg->management_ca && c->tr->peer_verified(c);
}

void eos_net__conn_switch(eos_net__conn *c, const eos_net__protocol *p, const uint8_t *data,
                          size_t size)
{
    if (c->proto)
        c->proto->free(c);
    c->proto = p;
    EOS_DEBUG("net", "%s: protocol %s", c->peer, p->name);
    if (size)
        p->input(c, data, size);
}

static void do_handshake(eos_net__conn *c)
{
    int r = c->tr->handshake(c);
    if (r < 0) {
        eos_net__conn_close(c, "handshake failed");
        return;
    }
    if (r == 0)
        return;
    eos_net__conn_touch(c);
    atomic_fetch_add(&c->w->srv->metrics.handshakes, 1);
    /* The first protocol decides which one is spoken (ALPN, or the first bytes). */
    c->proto = c->w->srv->first_proto;
    EOS_DEBUG("net", "%s: %s established (%s)", c->peer, c->tr->name, c->tr->version(c));
}

/* Writes pending output. Returns 0 when the connection is still alive. */
static int flush_out(eos_net__conn *c)
{
    c->write_wants_read = 0;
    while (c->out.off < c->out.len) {
        size_t len = c->out.len - c->out.off;
        if (c->out.retry)
            len = c->out.retry; /* the transport wants the same write repeated */
        else if (len > WRITE_CHUNK)
            len = WRITE_CHUNK;
        int n = c->tr->write(c, c->out.p + c->out.off, len);
        if (n <= 0) {
            c->out.retry = len;
            if (n == 0)
                return 0;
            eos_net__conn_close(c, "write failed");
            return -1;
        }
        c->out.retry = 0;
        c->out.off += (size_t)n;
        eos_net__conn_touch(c);
    }
    c->out.off = c->out.len = 0;
    /* A large response's buffer is not kept around for a connection that idles. */
    if (c->out.cap > 4 * WRITE_CHUNK) {
        eos_free(c->out.p, c->out.cap);
        c->out.p = NULL;
        c->out.cap = 0;
    }
    if (c->close_after_flush && !c->job) {
        eos_net__conn_close(c, "response sent");
        return -1;
    }
    return 0;
}

static void read_input(eos_net__conn *c)
{
    size_t budget = EOS_NET__READ_BUDGET;
    while (!c->dead && !c->close_after_flush && !c->input_paused &&
           c->out.len - c->out.off < EOS_NET__OUT_HIGH_WATER) {
        if (budget == 0) {
            /* Let other connections run; come back without waiting for epoll,
             * which cannot see bytes TLS has already buffered. */
            if (c->tr->pending(c))
                eos_net__mark_ready(c);
            return;
        }
        int n = c->tr->read(c, c->w->rbuf, sizeof c->w->rbuf);
        if (n <= 0) {
            if (n < 0) {
                /* The peer finished sending: answer what it sent, then
                 * close. (A request whose answer is being made is not read
                 * past, so its peer's end is only seen afterwards.) */
                c->close_after_flush = 1;
                if (c->out.len == c->out.off)
                    eos_net__conn_close(c, "peer closed");
            }
            return;
        }
        eos_net__conn_touch(c);
        budget = (size_t)n >= budget ? 0 : budget - (size_t)n;
        c->proto->input(c, c->w->rbuf, (size_t)n);
    }
}

void eos_net__conn_event(eos_net__conn *c, unsigned events)
{
    if (c->dead)
        return;
    if (!c->proto) {
        do_handshake(c);
        if (c->dead || !c->proto)
            goto out;
        /* Application data may already sit in TLS buffers after the handshake. */
    }
    /* The peer went while a job held the input: a reset or a full hang-up
     * leaves nobody to answer; its end of sending (FIN) is the end of a
     * request still waiting in its app's queue, which is then dropped (a
     * running one finishes, and a half-closed client gets its answer). */
    if (c->job && (events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP))) {
        if ((events & (EPOLLERR | EPOLLHUP)) || eos_net__job_unqueue(c->w->srv, c->job)) {
            eos_net__conn_close(c, "client left while its request waited");
            return;
        }
        c->peer_fin = 1;
    }
    /* An app thread's output first (a finished job may let input resume). */
    if (c->job)
        c->proto->pump(c);
    if (c->dead)
        return;
    if (c->out.len > c->out.off && flush_out(c) < 0)
        return;
    read_input(c);
    if (c->dead)
        return;
    if (c->out.len > c->out.off && flush_out(c) < 0)
        return;
    /* Writing made room: the app may go on. */
    if (c->job) {
        c->proto->pump(c);
        if (c->dead)
            return;
        if (c->out.len > c->out.off && flush_out(c) < 0)
            return;
    }
    /* The last job finished with nothing left to write. */
    if (c->close_after_flush && !c->job && c->out.len == c->out.off) {
        eos_net__conn_close(c, "response sent");
        return;
    }
    if (c->w->draining && eos_net__conn_quiescent(c)) {
        eos_net__conn_close(c, "server shutting down");
        return;
    }
    /* Reading stopped for back-pressure and resumes now: TLS may hold input
     * that epoll cannot report. */
    if (!c->close_after_flush && !c->input_paused && c->out.len == c->out.off &&
        c->tr->pending(c))
        eos_net__mark_ready(c);
out:
    if (!c->dead)
        set_interest(c);
}

void eos_net__conn_expire(eos_net__conn *c)
{
    /* One attempt to write a last word (HTTP's 408); the peer gets no more time. */
    if (c->proto && c->proto->expire(c)) {
        if (c->out.len > c->out.off && !c->dead) {
            c->close_after_flush = 1;
            if (flush_out(c) < 0)
                return;
        }
    }
    eos_net__conn_close(c, "idle timeout");
}
