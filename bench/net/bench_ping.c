/* Benchmarks of the server's hot paths, each reported with a baseline from
 * the same run: Ping round trips over one TLS connection (baseline: a plain
 * TCP echo over loopback), new TLS connections per second, and decoding of a
 * large Data frame (baseline: one memchr pass over the same bytes).
 * Usage: bench_net_ping [seconds per measurement, default 2] */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "eos/client.h"
#include "eos/net.h"

static double seconds = 2.0;

static void *serve(void *arg)
{
    eos_diag d;
    eos_net_server_run(arg, &d);
    return NULL;
}

static void *echo(void *arg)
{
    int lfd = *(int *)arg;
    int fd = accept(lfd, NULL, NULL);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char buf[64];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        if (write(fd, buf, (size_t)n) != n)
            break;
    close(fd);
    return NULL;
}

static double tcp_baseline(void)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(lfd, (struct sockaddr *)&a, sizeof a);
    listen(lfd, 1);
    getsockname(lfd, (struct sockaddr *)&a, &len);
    pthread_t t;
    pthread_create(&t, NULL, echo, &lfd);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    connect(fd, (struct sockaddr *)&a, sizeof a);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char msg[10] = "\0\0\0\6\"Ping\"", buf[10];
    uint64_t t0 = eos_now_ns(), n = 0;
    while ((double)(eos_now_ns() - t0) < seconds * 1e9) {
        if (write(fd, msg, sizeof msg) != sizeof msg)
            break;
        size_t got = 0;
        while (got < sizeof buf) {
            ssize_t r = read(fd, buf + got, sizeof buf - got);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        n++;
    }
    double rate = (double)n / ((double)(eos_now_ns() - t0) / 1e9);
    close(fd);
    pthread_join(t, NULL);
    close(lfd);
    return rate;
}

static double tls_pings(const char *addr)
{
    eos_diag d;
    eos_client *c = NULL;
    if (eos_client_connect(NULL, addr, &c, &d) < 0) {
        fprintf(stderr, "connect: %s\n", d.message);
        exit(1);
    }
    uint64_t t0 = eos_now_ns(), n = 0;
    while ((double)(eos_now_ns() - t0) < seconds * 1e9) {
        if (eos_client_ping(c, NULL, &d) < 0) {
            fprintf(stderr, "ping: %s\n", d.message);
            exit(1);
        }
        n++;
    }
    double rate = (double)n / ((double)(eos_now_ns() - t0) / 1e9);
    eos_client_close(c);
    return rate;
}

static double tls_connects(const char *addr)
{
    eos_diag d;
    uint64_t t0 = eos_now_ns(), n = 0;
    while ((double)(eos_now_ns() - t0) < seconds * 1e9) {
        eos_client *c = NULL;
        if (eos_client_connect(NULL, addr, &c, &d) < 0 || eos_client_ping(c, NULL, &d) < 0) {
            fprintf(stderr, "connect: %s\n", d.message);
            exit(1);
        }
        eos_client_close(c);
        n++;
    }
    return (double)n / ((double)(eos_now_ns() - t0) / 1e9);
}

static void decode_throughput(void)
{
    size_t comp = 4 << 20;
    uint8_t *bytes = malloc(comp);
    for (size_t i = 0; i < comp; i++)
        bytes[i] = (uint8_t)(i * 2654435761u >> 13);
    uint8_t *frame = NULL;
    size_t size = 0;
    eos_proto_msg_encode(EOS_PROTO_MSG_DATA, bytes, comp, &frame, &size);
    eos_proto_decoder *dec = NULL;
    eos_proto_decoder_new(NULL, &dec);
    int rounds = 0;
    uint64_t t0 = eos_now_ns();
    while ((double)(eos_now_ns() - t0) < seconds * 1e9) {
        size_t off = 0;
        while (off < size) {
            size_t used = 0, take = size - off < 16384 ? size - off : 16384;
            eos_diag d;
            eos_proto_decoder_feed(dec, frame + off, take, &used, &d);
            off += used;
        }
        rounds++;
    }
    double dec_mbs = (double)size * rounds / 1e6 / ((double)(eos_now_ns() - t0) / 1e9);
    rounds = 0;
    size_t hits = 0;
    t0 = eos_now_ns();
    while ((double)(eos_now_ns() - t0) < seconds * 1e9) {
        for (const uint8_t *p = frame; (p = memchr(p, ',', (size_t)(frame + size - p))); p++)
            hits++;
        rounds++;
    }
    double scan_mbs = (double)size * rounds / 1e6 / ((double)(eos_now_ns() - t0) / 1e9);
    printf("decode Data frame (%zu-byte JSON): %8.1f MB/s   baseline memchr per comma %8.1f MB/s   "
           "ratio %.3f  (%zu)\n",
           size, dec_mbs, scan_mbs, dec_mbs / scan_mbs, hits % 2);
    eos_proto_decoder_free(dec);
    eos_free(frame, size);
    free(bytes);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        seconds = atof(argv[1]) > 0 ? atof(argv[1]) : seconds;
    eos_log_set_level(EOS_LOG_WARN);
    eos_net_server_config cfg;
    eos_net_server_config_init(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.workers = 1;
    eos_diag d;
    eos_net_server *srv = NULL;
    if (eos_net_server_new(&cfg, &srv, &d) < 0) {
        fprintf(stderr, "server: %s\n", d.message);
        return 1;
    }
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", eos_net_server_port(srv));
    pthread_t t;
    pthread_create(&t, NULL, serve, srv);

    double base = tcp_baseline();
    double pings = tls_pings(addr);
    double conns = tls_connects(addr);
    printf("ping round trips, one TLS connection: %9.0f /s   baseline TCP echo %9.0f /s   "
           "ratio %.3f\n",
           pings, base, pings / base);
    printf("new TLS connections (handshake + ping): %7.0f /s   per-connection cost %.3f ms "
           "= %.1f ping round trips\n",
           conns, 1e3 / conns, pings / conns);
    decode_throughput();

    eos_net_server_stop(srv);
    pthread_join(t, NULL);
    eos_net_server_free(srv);
    return 0;
}
