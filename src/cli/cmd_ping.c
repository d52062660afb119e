/* `enclave-os ping`: connect over TLS, send "Ping" frames, print round trips. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "eos/client.h"

static int run(int argc, char **argv);

const eos_cli_command eos_cli_ping = {
    "ping",
    "check that a server answers (TLS handshake + Ping/Pong round trips)",
    "usage: enclave-os ping HOST:PORT [options]\n\n"
    "Connects over TLS 1.3 and sends \"Ping\" frames on one connection, printing each\n"
    "round-trip time. The server's certificate is not verified yet (see 'verify').\n\n"
    "Options:\n"
    "  -c, --count N        number of pings (default 1)\n"
    "  -i, --interval MS    pause between pings in milliseconds (default 0)\n"
    "  --timeout MS         connect, handshake and reply timeout (default 5000)\n"
    "  -h, --help           show this help\n\n"
    "Exit status: 0 when every ping got a Pong, 1 when the server is unreachable, the\n"
    "handshake fails or a reply is wrong, 2 for a usage error.\n",
    run,
};

static int run(int argc, char **argv)
{
    const eos_cli_command *cmd = &eos_cli_ping;
    enum { O_TIMEOUT = 256 };
    static const struct option opts[] = {
        {"count", required_argument, 0, 'c'},
        {"interval", required_argument, 0, 'i'},
        {"timeout", required_argument, 0, O_TIMEOUT},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    uint64_t count = 1, interval_ms = 0, timeout_ms = 5000;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            if (eos_cli__parse_uint(optarg, 1, 100000000, &count) < 0)
                return eos_cli__usage(cmd, "--count wants a positive number, not '%s'", optarg);
            break;
        case 'i':
            if (eos_cli__parse_uint(optarg, 0, 3600000, &interval_ms) < 0)
                return eos_cli__usage(cmd, "--interval wants milliseconds, not '%s'", optarg);
            break;
        case O_TIMEOUT:
            if (eos_cli__parse_uint(optarg, 1, 3600000, &timeout_ms) < 0)
                return eos_cli__usage(cmd, "--timeout wants milliseconds, not '%s'", optarg);
            break;
        default:
            return eos_cli__option_rest(cmd, c, argv);
        }
    }
    if (optind + 1 != argc)
        return eos_cli__usage(cmd, optind == argc ? "missing HOST:PORT" : "too many arguments");
    const char *addr = argv[optind];

    eos_client_config cfg;
    eos_client_config_init(&cfg);
    cfg.timeout_ms = (unsigned)timeout_ms;
    eos_diag d;
    eos_diag_init(&d);
    eos_client *cl = NULL;
    uint64_t t0 = eos_now_ns();
    int rc = eos_client_connect(&cfg, addr, &cl, &d);
    if (rc < 0) {
        fprintf(stderr, "enclave-os ping: %s\n", d.message[0] ? d.message : eos_strerror(rc));
        return EOS_CLI_EXIT_FAIL;
    }
    printf("connected to %s (%s, %s) in %.3f ms\n", addr, eos_client_tls_version(cl),
           eos_client_cipher(cl), (double)(eos_now_ns() - t0) / 1e6);
    double min = 0, max = 0, sum = 0;
    uint64_t done = 0;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t rtt = 0;
        rc = eos_client_ping(cl, &rtt, &d);
        if (rc < 0) {
            fprintf(stderr, "enclave-os ping: %s\n", d.message[0] ? d.message : eos_strerror(rc));
            break;
        }
        double ms = (double)rtt / 1e6;
        printf("Pong from %s: seq=%llu time=%.3f ms\n", addr, (unsigned long long)i + 1, ms);
        fflush(stdout);
        min = done == 0 || ms < min ? ms : min;
        max = ms > max ? ms : max;
        sum += ms;
        done++;
        if (interval_ms && i + 1 < count) {
            struct timespec ts = {(time_t)(interval_ms / 1000),
                                  (long)(interval_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    eos_client_close(cl);
    if (count > 1 && done)
        printf("%llu/%llu pongs, rtt min/avg/max = %.3f/%.3f/%.3f ms\n", (unsigned long long)done,
               (unsigned long long)count, min, sum / (double)done, max);
    return done == count ? EOS_CLI_EXIT_OK : EOS_CLI_EXIT_FAIL;
}
