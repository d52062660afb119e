/* The server object: configuration, the TLS context, the listening socket,
 * and the worker threads' lifetime (start, stop request, join). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "internal.h"

void eos_net_server_config_init(eos_net_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen = "127.0.0.1:8443";
    cfg->max_frame_size = EOS_PROTO_DEFAULT_MAX_FRAME;
    cfg->idle_timeout_ms = 60000;
    cfg->drain_timeout_ms = 10000;
    cfg->tee_name = "sim";
}

/* Splits "HOST:PORT" or "[V6]:PORT" into host and port (within buf). */
static int split_hostport(char *buf, char **host, char **port)
{
    char *colon = strrchr(buf, ':');
    if (!colon || colon[1] == 0)
        return EOS_EINVAL;
    *colon = 0;
    *port = colon + 1;
    *host = buf;
    if (buf[0] == '[') {
        size_t n = strlen(buf);
        if (n < 2 || buf[n - 1] != ']')
            return EOS_EINVAL;
        buf[n - 1] = 0;
        *host = buf + 1;
    }
    if (**host == 0)
        *host = NULL; /* ":8443": every address */
    /* getaddrinfo would wrap 99999 around to a valid port; refuse instead. */
    size_t n = strlen(*port);
    if (n > 5 || strspn(*port, "0123456789") != n || atoi(*port) > 65535)
        return EOS_EINVAL;
    return 0;
}

static int open_listener(eos_net_server *srv, eos_diag *d)
{
    int rc = EOS_EINVAL;
    struct addrinfo *ai = NULL;
    char *buf = eos_strdup(srv->cfg.listen);
    char *host = NULL, *port = NULL;
    if (!buf)
        return EOS_ENOMEM;
    if (split_hostport(buf, &host, &port) < 0) {
        rc = eos_diag_set(d, EOS_EINVAL, "listen", -1,
                          "invalid listen address '%s': expected HOST:PORT such as "
                          "127.0.0.1:8443 or [::1]:8443",
                          srv->cfg.listen);
        goto out;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0) {
        rc = eos_diag_set(d, EOS_EINVAL, "listen", -1, "cannot resolve listen address '%s': %s",
                          srv->cfg.listen, gai_strerror(gai));
        goto out;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = eos_diag_set(d, EOS_ESYS, "listen", -1, "socket: %s", strerror(errno));
        goto out;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        rc = eos_diag_set(d, EOS_ESYS, "listen", -1, "cannot listen on %s: %s%s", srv->cfg.listen,
                          strerror(e),
                          e == EADDRINUSE ? " (another process uses this port; pick another "
                                            "with --listen)"
                                          : "");
        goto out;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    srv->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    srv->listen_fd = fd;
    rc = 0;
out:
    if (ai)
        freeaddrinfo(ai);
    eos_free(buf, strlen(srv->cfg.listen) + 1);
    return rc;
}

static int setup_tls(eos_net_server *srv, eos_diag *d)
{
    srv->ssl_ctx = SSL_CTX_new(TLS_server_method());
    if (!srv->ssl_ctx) {
        ERR_clear_error();
        return eos_diag_set(d, EOS_ETLS, "tls", -1, "cannot create the TLS context");
    }
    int rc = eos_net_tls_server_ctx_setup(srv->ssl_ctx, d);
    if (rc < 0)
        return rc;
    eos_net_tls_hook hook = srv->cfg.tls_hook ? srv->cfg.tls_hook : eos_net_tls_install_self_signed;
    return hook(srv->cfg.tls_hook_ud, srv->ssl_ctx, d);
}

int eos_net_server_new(const eos_net_server_config *cfg, eos_net_server **out, eos_diag *d)
{
    int rc = EOS_ENOMEM;
    eos_net_server *srv = eos_calloc(1, sizeof *srv);
    if (!srv)
        return EOS_ENOMEM;
    srv->listen_fd = -1;
    srv->stop_fd = -1;
    srv->cfg = *cfg;
    srv->listen_copy = eos_strdup(cfg->listen ? cfg->listen : "127.0.0.1:8443");
    srv->tee_copy = eos_strdup(cfg->tee_name ? cfg->tee_name : "sim");
    if (!srv->listen_copy || !srv->tee_copy)
        goto out;
    srv->cfg.listen = srv->listen_copy;
    srv->cfg.tee_name = srv->tee_copy;
    srv->transport = cfg->plain_tcp ? &eos_net__transport_tcp : &eos_net__transport_tls;
    srv->first_proto = &eos_net__proto_sniff;
    srv->apps = cfg->apps;
    if (!srv->apps) {
        /* No table given: an empty one of the server's own, so management
         * answers and every app path is a 404. */
        rc = eos_apps_new(NULL, &srv->apps, d);
        if (rc < 0)
            goto out;
        srv->own_apps = 1;
        srv->cfg.apps = srv->apps;
    }
    if (srv->cfg.max_frame_size == 0)
        srv->cfg.max_frame_size = EOS_PROTO_DEFAULT_MAX_FRAME;
    if (srv->cfg.max_frame_size > EOS_PROTO_MAX_FRAME_LIMIT) {
        rc = eos_diag_set(d, EOS_EINVAL, "config", -1,
                          "maximum frame size %zu is above the protocol's limit of %zu bytes",
                          srv->cfg.max_frame_size, EOS_PROTO_MAX_FRAME_LIMIT);
        goto out;
    }
    if (srv->cfg.idle_timeout_ms == 0)
        srv->cfg.idle_timeout_ms = 60000;
    if (srv->cfg.drain_timeout_ms == 0)
        srv->cfg.drain_timeout_ms = 10000;
    if (srv->cfg.workers <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        srv->cfg.workers = n > 0 ? (int)(n > 256 ? 256 : n) : 1;
    }
    if (srv->cfg.app_threads <= 0) {
        /* Apps block on slow clients as well as compute, so more threads
         * than cores; a thread costs little while it waits. */
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        n = n > 0 ? 4 * n : 8;
        srv->cfg.app_threads = (int)(n < 8 ? 8 : n > 1024 ? 1024 : n);
    }
    if (srv->cfg.app_threads > 1024)
        srv->cfg.app_threads = 1024;
    srv->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (srv->stop_fd < 0) {
        rc = eos_diag_set(d, EOS_ESYS, "server", -1, "eventfd: %s", strerror(errno));
        goto out;
    }
    rc = setup_tls(srv, d);
    if (rc < 0)
        goto out;
    rc = open_listener(srv, d);
out:
    if (rc < 0) {
        eos_net_server_free(srv);
        return rc;
    }
    *out = srv;
    return 0;
}

int eos_net_server_port(const eos_net_server *srv)
{
    return srv->port;
}

const eos_net_server_config *eos_net_server_config_get(const eos_net_server *srv)
{
    return &srv->cfg;
}

int eos_net_server_run(eos_net_server *srv, eos_diag *d)
{
    int rc = 0;
    int n = srv->cfg.workers;
    srv->workers = eos_calloc((size_t)n, sizeof *srv->workers);
    if (!srv->workers)
        return eos_diag_set(d, EOS_ENOMEM, "server", -1, "out of memory starting workers");
    srv->nworkers = n;
    for (int i = 0; i < n; i++) {
        srv->workers[i].epfd = -1;
        srv->workers[i].wake_fd = -1;
        pthread_mutex_init(&srv->workers[i].wake_lock, NULL);
    }
    rc = eos_net__pool_start(srv, srv->cfg.app_threads, d);
    if (rc < 0)
        eos_net_server_stop(srv);
    for (int i = 0; i < n && rc == 0; i++) {
        eos_net__worker *w = &srv->workers[i];
        w->srv = srv;
        w->id = i;
        w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        w->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (w->epfd < 0 || w->wake_fd < 0) {
            rc = eos_diag_set(d, EOS_ESYS, "server", -1, "epoll_create1: %s", strerror(errno));
            eos_net_server_stop(srv);
            break;
        }
        if (pthread_create(&w->thread, NULL, eos_net__worker_main, w) != 0) {
            rc = eos_diag_set(d, EOS_ESYS, "server", -1, "cannot start worker thread %d", i);
            eos_net_server_stop(srv);
            break;
        }
        w->started = 1;
    }
    for (int i = 0; i < n; i++) {
        eos_net__worker *w = &srv->workers[i];
        if (w->started)
            pthread_join(w->thread, NULL);
    }
    /* Jobs still running (their connections are gone) finish before the
     * workers they would wake are freed. */
    eos_net__pool_stop(srv);
    for (int i = 0; i < n; i++) {
        eos_net__worker *w = &srv->workers[i];
        eos_net__worker_wake_clear(w);
        pthread_mutex_destroy(&w->wake_lock);
        if (w->epfd >= 0)
            close(w->epfd);
        if (w->wake_fd >= 0)
            close(w->wake_fd);
    }
    eos_free(srv->workers, (size_t)n * sizeof *srv->workers);
    srv->workers = NULL;
    srv->nworkers = 0;
    /* Stop accepting at the kernel too: queued but unaccepted connections are refused. */
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    srv->listen_fd = -1;
    return rc;
}

void eos_net_server_free(eos_net_server *srv)
{
    if (!srv)
        return;
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    if (srv->stop_fd >= 0)
        close(srv->stop_fd);
    SSL_CTX_free(srv->ssl_ctx);
    if (srv->own_apps)
        eos_apps_free(srv->apps);
    if (srv->listen_copy)
        eos_free(srv->listen_copy, strlen(srv->listen_copy) + 1);
    if (srv->tee_copy)
        eos_free(srv->tee_copy, strlen(srv->tee_copy) + 1);
    eos_free(srv, sizeof *srv);
}
