/* In-process tests of the server and the client library together: Ping,
 * errors that keep or close the connection, management refusal, the verify
 * callback, connect failures, the plain TCP transport, and a clean stop
 * (leaks show under ASan). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "eos/client.h"
#include "eos/net.h"
#include "harness.h"

static eos_net_server *srv;
static pthread_t thread;
static int run_rc = -1;
static char addr[64];

static void *serve(void *arg)
{
    eos_diag d;
    eos_diag_init(&d);
    run_rc = eos_net_server_run(srv, &d);
    return NULL;
}

static int hook_calls;
static int counting_hook(void *ud, struct ssl_ctx_st *ctx, eos_diag *d)
{
    hook_calls++;
    EOS_CHECK(ud == &hook_calls);
    return eos_net_tls_install_self_signed(NULL, ctx, d);
}

static void start_with(int dev, int plain)
{
    eos_net_server_config cfg;
    eos_net_server_config_init(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.workers = 2;
    cfg.max_frame_size = 1024;
    cfg.dev = dev;
    cfg.tls_hook = counting_hook;
    cfg.tls_hook_ud = &hook_calls;
    cfg.plain_tcp = plain;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_net_server_new(&cfg, &srv, &d), 0);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", eos_net_server_port(srv));
    pthread_create(&thread, NULL, serve, NULL);
}

static void start(int dev)
{
    start_with(dev, 0);
}

static void stop(void)
{
    eos_net_server_stop(srv);
    pthread_join(thread, NULL);
    EOS_CHECK_INT(run_rc, 0);
    eos_net_server_free(srv);
    srv = NULL;
}

static eos_client *dial(void)
{
    eos_diag d;
    eos_diag_init(&d);
    eos_client *c = NULL;
    int rc = eos_client_connect(NULL, addr, &c, &d);
    if (rc < 0)
        fprintf(stderr, "  connect: %s\n", d.message);
    EOS_CHECK_INT(rc, 0);
    return c;
}

static void expect_error(eos_client *c, const char *needle)
{
    eos_diag d;
    eos_diag_init(&d);
    const uint8_t *bytes = NULL;
    size_t size = 0;
    EOS_CHECK_INT(eos_client_recv_msg(c, &bytes, &size, &d), EOS_PROTO_MSG_ERROR);
    char text[600];
    snprintf(text, sizeof text, "%.*s", (int)(size < 599 ? size : 599), (const char *)bytes);
    if (!strstr(text, needle))
        fprintf(stderr, "  error text: %s\n", text);
    EOS_CHECK(strstr(text, needle) != NULL);
}

static void test_ping_and_errors(void)
{
    start(0);
    EOS_CHECK_INT(hook_calls, 1);
    eos_client *c = dial();
    eos_diag d;
    uint64_t rtt = 0;
    EOS_CHECK_INT(eos_client_ping(c, &rtt, &d), 0);
    EOS_CHECK(rtt > 0);
    EOS_CHECK_STR(eos_client_tls_version(c), "TLSv1.3");

    EOS_CHECK_INT(eos_client_send_frame(c, (const uint8_t *)"{oops", 5, &d), 0);
    expect_error(c, "malformed JSON");
    const char *inner = "{\"wasm_unload\": {\"name\": \"x\"}}";
    EOS_CHECK_INT(
        eos_client_send_msg(c, EOS_PROTO_MSG_DATA, (const uint8_t *)inner, strlen(inner), &d), 0);
    {
        const uint8_t *bytes = NULL;
        size_t size = 0;
        EOS_CHECK_INT(eos_client_recv_msg(c, &bytes, &size, &d), EOS_PROTO_MSG_DATA);
        char text[600];
        snprintf(text, sizeof text, "%.*s", (int)(size < 599 ? size : 599), (const char *)bytes);
        EOS_CHECK(strstr(text, "\"code\":\"unauthorized\"") != NULL);
    }
    EOS_CHECK_INT(eos_client_send_msg(c, EOS_PROTO_MSG_SHUTDOWN, NULL, 0, &d), 0);
    expect_error(c, "unauthorized");
    EOS_CHECK_INT(eos_client_ping(c, NULL, &d), 0);

    /* Oversized: Error, then the server closes. */
    static const uint8_t big[] = {0, 0, 4, 1};
    EOS_CHECK_INT(eos_client_send_raw(c, big, sizeof big, &d), 0);
    expect_error(c, "exceeds the maximum frame size of 1024");
    EOS_CHECK_INT(eos_client_recv_msg(c, NULL, NULL, &d), EOS_ECLOSED);
    eos_client_close(c);
    stop();
}

static void test_shutdown_in_dev_mode(void)
{
    start(1);
    eos_client *c = dial();
    eos_diag d;
    EOS_CHECK_INT(eos_client_send_msg(c, EOS_PROTO_MSG_SHUTDOWN, NULL, 0, &d), 0);
    EOS_CHECK_INT(eos_client_recv_msg(c, NULL, NULL, &d), EOS_PROTO_MSG_OK);
    eos_client_close(c);
    pthread_join(thread, NULL); /* the server stops by itself */
    EOS_CHECK_INT(run_rc, 0);
    eos_net_server_free(srv);
}

static int verify_calls;
static int refuse(void *ud, struct ssl_st *ssl, eos_diag *d)
{
    verify_calls++;
    EOS_CHECK(ssl != NULL);
    return eos_diag_set(d, EOS_EVERIFY, "verify", -1, "refused by test");
}

static void test_verify_callback_and_failures(void)
{
    start(0);
    eos_client_config cfg;
    eos_client_config_init(&cfg);
    cfg.verify = refuse;
    eos_diag d;
    eos_diag_init(&d);
    eos_client *c = NULL;
    EOS_CHECK_INT(eos_client_connect(&cfg, addr, &c, &d), EOS_EVERIFY);
    EOS_CHECK_INT(verify_calls, 1);
    EOS_CHECK_STR(d.message, "refused by test");
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_client_connect(NULL, "no-port", &c, &d), EOS_EINVAL);
    int port = eos_net_server_port(srv);
    stop();
    char gone[64];
    snprintf(gone, sizeof gone, "127.0.0.1:%d", port);
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_client_connect(NULL, gone, &c, &d), EOS_ECLOSED);
    EOS_CHECK(strstr(d.message, "cannot connect") != NULL);
}

static void test_bad_config(void)
{
    eos_net_server_config cfg;
    eos_net_server_config_init(&cfg);
    eos_diag d;
    const char *bad[] = {"127.0.0.1", "127.0.0.1:99999", "[::1:80", "127.0.0.1:x", ""};
    for (size_t i = 0; i < EOS_ARRAY_LEN(bad); i++) {
        cfg.listen = bad[i];
        eos_diag_init(&d);
        eos_net_server *s = NULL;
        EOS_CHECK_INT(eos_net_server_new(&cfg, &s, &d), EOS_EINVAL);
    }
    cfg.listen = "127.0.0.1:0";
    cfg.max_frame_size = EOS_PROTO_MAX_FRAME_LIMIT + 1;
    eos_net_server *s = NULL;
    EOS_CHECK_INT(eos_net_server_new(&cfg, &s, &d), EOS_EINVAL);
}

/* The plain TCP transport: the same protocols with no TLS, frames and HTTP. */
static void test_plain_tcp(void)
{
    start_with(0, 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)eos_net_server_port(srv))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EOS_CHECK_INT(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    static const char ping[] = "\0\0\0\6\"Ping\"";
    EOS_CHECK_INT((int)send(fd, ping, sizeof ping - 1, 0), (int)sizeof ping - 1);
    char buf[64];
    size_t got = 0;
    while (got < 10) {
        ssize_t n = recv(fd, buf + got, sizeof buf - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    EOS_CHECK_INT((int)got, 10);
    EOS_CHECK(memcmp(buf, "\0\0\0\6\"Pong\"", 10) == 0);
    close(fd);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    EOS_CHECK_INT(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    static const char get[] = "GET /.well-known/enclave-os/healthz HTTP/1.1\r\nHost: x\r\n"
                              "Connection: close\r\n\r\n";
    EOS_CHECK_INT((int)send(fd, get, sizeof get - 1, 0), (int)sizeof get - 1);
    got = 0;
    char resp[512];
    for (;;) {
        ssize_t n = recv(fd, resp + got, sizeof resp - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    resp[got] = 0;
    EOS_CHECK(strncmp(resp, "HTTP/1.1 200 ", 13) == 0);
    EOS_CHECK(strstr(resp, "\r\n\r\nok\n") != NULL);
    close(fd);
    stop();
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    eos_log_set_level(EOS_LOG_ERROR);
    EOS_RUN(test_ping_and_errors);
    EOS_RUN(test_shutdown_in_dev_mode);
    EOS_RUN(test_verify_callback_and_failures);
    EOS_RUN(test_bad_config);
    EOS_RUN(test_plain_tcp);
    return eos_test_finish();
}
