/* The plain TCP transport: the socket's bytes as they are, for a server
 * configured with plain_tcp (behind a terminating proxy on the same host,
 * and tests). No handshake; nothing is buffered outside the kernel. */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

static int tcp_open(eos_net_server *srv, eos_net__conn *c)
{
    (void)srv;
    c->ts = NULL;
    return 0;
}

static int tcp_handshake(eos_net__conn *c)
{
    (void)c;
    return 1;
}

static int tcp_read(eos_net__conn *c, uint8_t *buf, size_t cap)
{
    ssize_t n = recv(c->fd, buf, cap, 0);
    if (n > 0)
        return (int)n;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    return -1;
}

static int tcp_write(eos_net__conn *c, const uint8_t *data, size_t size)
{
    ssize_t n = send(c->fd, data, size, MSG_NOSIGNAL);
    if (n > 0)
        return (int)n;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    return -1;
}

static int tcp_pending(const eos_net__conn *c)
{
    (void)c;
    return 0;
}

static void tcp_close(eos_net__conn *c)
{
    (void)c;
}

static const char *tcp_alpn(const eos_net__conn *c, size_t *out_len)
{
    (void)c;
    *out_len = 0;
    return NULL;
}

static const char *tcp_server_name(const eos_net__conn *c)
{
    (void)c;
    return NULL;
}

static int tcp_peer_verified(const eos_net__conn *c)
{
    (void)c;
    return 0;
}

static const char *tcp_version(const eos_net__conn *c)
{
    (void)c;
    return "plain TCP";
}

const eos_net__transport eos_net__transport_tcp = {
    .name = "tcp",
    .open = tcp_open,
    .handshake = tcp_handshake,
    .read = tcp_read,
    .write = tcp_write,
    .pending = tcp_pending,
    .close = tcp_close,
    .alpn = tcp_alpn,
    .server_name = tcp_server_name,
    .peer_verified = tcp_peer_verified,
    .version = tcp_version,
};
