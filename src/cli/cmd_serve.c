/* `enclave-os serve`: start the server, announce how it runs (loudly when it
 * is simulated or open for development), and stop gracefully on a signal. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "eos/net.h"

static int run(int argc, char **argv);

const eos_cli_command eos_cli_serve = {
    "serve",
    "run the server (TLS 1.3, framed management protocol)",
    "usage: enclave-os serve [options]\n\n"
    "Runs the enclave-os server in the foreground until SIGTERM or SIGINT, then stops\n"
    "accepting, finishes requests in flight, and exits with status 0.\n\n"
    "Options:\n"
    "  --listen HOST:PORT       address to listen on (default 127.0.0.1:8443;\n"
    "                           [::1]:8443 for IPv6, port 0 = any free port)\n"
    "  --data-dir DIR           where the server keeps its state (default ./.eos-data;\n"
    "                           created when missing)\n"
    "  --tee KIND               trusted execution environment: auto, sim, sgx, tdx,\n"
    "                           sev-snp (default auto; this version runs sim only, and\n"
    "                           auto selects it)\n"
    "  --workers N              worker threads (default: one per CPU)\n"
    "  --dev                    open development mode: management requests (load,\n"
    "                           unload, Shutdown) are accepted from loopback clients\n"
    "                           without credentials. Never use in production.\n"
    "  --log-level LEVEL        debug, info, warn, error or off (default info)\n"
    "  --max-frame-size BYTES   largest request frame (default 256M; suffixes K, M, G;\n"
    "                           at most 511M). Larger frames get an Error and the\n"
    "                           connection is closed.\n"
    "  --idle-timeout SECONDS   close connections idle this long (default 60)\n"
    "  --drain-timeout SECONDS  on shutdown, how long requests in flight may take\n"
    "                           (default 10)\n"
    "  -h, --help               show this help\n\n"
    "Exit status: 0 after a graceful shutdown, 1 when the server cannot start,\n"
    "2 for a usage error, 3 when the requested TEE is not available yet.\n",
    run,
};

static eos_net_server *running;
static volatile sig_atomic_t signals_seen;

static void on_signal(int sig)
{
    (void)sig;
    if (signals_seen++ && running) {
        /* A second signal while draining: the operator wants out now. */
        static const char msg[] = "enclave-os: second signal, exiting immediately\n";
        ssize_t r = write(2, msg, sizeof msg - 1);
        (void)r;
        _exit(1);
    }
    if (running)
        eos_net_server_stop(running);
}

static int make_dir(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

static const char *const sim_warning[] = {
    "SIMULATION MODE (--tee sim): NO TRUSTED EXECUTION ENVIRONMENT.",
    "Nothing here is confidential: the host can read all memory and",
    "data, and the certificate carries no hardware evidence (self-",
    "signed for now). Use only for development and testing.",
};

static const char *const dev_warning[] = {
    "DEVELOPMENT MODE (--dev): management is OPEN to every loopback",
    "client without credentials: any local process may load, unload",
    "and shut down. Never use in production.",
};

/* Logs lines inside a box of '!' so they stand out in any log viewer. */
static void warn_box(const char *const *lines, size_t count)
{
    static const char bar[] =
        "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!";
    EOS_WARN("serve", "%s", bar);
    for (size_t i = 0; i < count; i++)
        EOS_WARN("serve", "!!  %-65s !!", lines[i]);
    EOS_WARN("serve", "%s", bar);
}

static void banner(const eos_net_server_config *cfg, int port, const char *data_dir)
{
    char host[256];
    snprintf(host, sizeof host, "%s", cfg->listen);
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = 0;
    EOS_INFO("serve",
             "enclave-os %s listening on %s:%d (TLS 1.3, framed protocol; TEE: %s; "
             "%d worker%s; data dir %s)",
             eos_net_version(), host, port, cfg->tee_name, cfg->workers,
             cfg->workers == 1 ? "" : "s", data_dir);
    if (strcmp(cfg->tee_name, "sim") == 0)
        warn_box(sim_warning, EOS_ARRAY_LEN(sim_warning));
    if (cfg->dev)
        warn_box(dev_warning, EOS_ARRAY_LEN(dev_warning));
}

static int run(int argc, char **argv)
{
    const eos_cli_command *cmd = &eos_cli_serve;
    enum { O_LISTEN = 256, O_DATA, O_TEE, O_WORKERS, O_DEV, O_LOG, O_MAXF, O_IDLE, O_DRAIN };
    static const struct option opts[] = {
        {"listen", required_argument, 0, O_LISTEN},
        {"data-dir", required_argument, 0, O_DATA},
        {"tee", required_argument, 0, O_TEE},
        {"workers", required_argument, 0, O_WORKERS},
        {"dev", no_argument, 0, O_DEV},
        {"log-level", required_argument, 0, O_LOG},
        {"max-frame-size", required_argument, 0, O_MAXF},
        {"idle-timeout", required_argument, 0, O_IDLE},
        {"drain-timeout", required_argument, 0, O_DRAIN},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    eos_net_server_config cfg;
    eos_net_server_config_init(&cfg);
    const char *data_dir = ".eos-data";
    const char *tee = "auto";
    uint64_t v;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_LISTEN:
            cfg.listen = optarg;
            break;
        case O_DATA:
            data_dir = optarg;
            break;
        case O_TEE:
            tee = optarg;
            break;
        case O_WORKERS:
            if (eos_cli__parse_uint(optarg, 1, 256, &v) < 0)
                return eos_cli__usage(cmd, "--workers wants a number from 1 to 256, not '%s'",
                                      optarg);
            cfg.workers = (int)v;
            break;
        case O_DEV:
            cfg.dev = 1;
            break;
        case O_LOG: {
            int level = eos_log_parse_level(optarg);
            if (level < 0)
                return eos_cli__usage(cmd, "--log-level wants debug, info, warn, error or off");
            eos_log_set_level((eos_log_level)level);
            break;
        }
        case O_MAXF:
            if (eos_cli__parse_size(optarg, &v) < 0 || v < 64 || v > EOS_NET_MAX_FRAME_LIMIT)
                return eos_cli__usage(cmd, "--max-frame-size wants 64 to %zu bytes, not '%s'",
                                      EOS_NET_MAX_FRAME_LIMIT, optarg);
            cfg.max_frame_size = (size_t)v;
            break;
        case O_IDLE:
            if (eos_cli__parse_uint(optarg, 1, 86400, &v) < 0)
                return eos_cli__usage(cmd, "--idle-timeout wants 1 to 86400 seconds");
            cfg.idle_timeout_ms = (unsigned)v * 1000;
            break;
        case O_DRAIN:
            if (eos_cli__parse_uint(optarg, 1, 3600, &v) < 0)
                return eos_cli__usage(cmd, "--drain-timeout wants 1 to 3600 seconds");
            cfg.drain_timeout_ms = (unsigned)v * 1000;
            break;
        case 'h':
            eos_cli__print_help(cmd);
            return EOS_CLI_EXIT_OK;
        case ':':
            return eos_cli__usage(cmd, "option '%s' needs a value", argv[optind - 1]);
        default:
            return eos_cli__usage(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return eos_cli__usage(cmd, "unexpected argument '%s'", argv[optind]);

    if (strcmp(tee, "auto") == 0) {
        EOS_WARN("serve", "--tee auto: this version has no hardware TEE backend; using the "
                          "simulation (sim)");
        tee = "sim";
    } else if (strcmp(tee, "sgx") == 0 || strcmp(tee, "tdx") == 0 || strcmp(tee, "sev-snp") == 0) {
        fprintf(stderr,
                "enclave-os serve: --tee %s is not available yet in this version; use --tee "
                "sim for development.\n",
                tee);
        return EOS_CLI_EXIT_UNAVAILABLE;
    } else if (strcmp(tee, "sim") != 0) {
        return eos_cli__usage(cmd, "--tee wants auto, sim, sgx, tdx or sev-snp, not '%s'", tee);
    }
    cfg.tee_name = tee;
    if (make_dir(data_dir) < 0) {
        fprintf(stderr, "enclave-os serve: cannot create the data directory '%s': %s\n", data_dir,
                strerror(errno));
        return EOS_CLI_EXIT_FAIL;
    }

    eos_diag d;
    eos_diag_init(&d);
    eos_net_server *srv = NULL;
    int rc = eos_net_server_new(&cfg, &srv, &d);
    if (rc < 0) {
        fprintf(stderr, "enclave-os serve: cannot start: %s\n",
                d.message[0] ? d.message : eos_strerror(rc));
        return EOS_CLI_EXIT_FAIL;
    }
    if (cfg.workers <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg.workers = n > 0 ? (int)(n > 256 ? 256 : n) : 1;
    }
    banner(&cfg, eos_net_server_port(srv), data_dir);

    /* Peers that vanish must not kill the process through SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    running = srv;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    rc = eos_net_server_run(srv, &d);
    running = NULL;
    eos_net_server_free(srv);
    if (rc < 0) {
        EOS_ERROR("serve", "server failed: %s", d.message[0] ? d.message : eos_strerror(rc));
        return EOS_CLI_EXIT_FAIL;
    }
    EOS_INFO("serve", "stopped");
    return EOS_CLI_EXIT_OK;
}
