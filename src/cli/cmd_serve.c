/* `enclave-os serve`: start the server, announce how it runs (loudly when it
 * is simulated or open for development), and stop gracefully on a signal. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "cli.h"
#include "eos/apps.h"
#include "eos/console.h"
#include "eos/kv.h"
#include "eos/net.h"
#include "eos/ratls.h"
#include "eos/tee.h"

/* How long a stopping server waits for background compilations to stop. */
#define SHUTDOWN_COMPILE_MS 3000u

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
    "  --store postgres://...   keep the store's ciphertext in PostgreSQL (a libpq URI,\n"
    "                           or service=NAME) instead of LMDB in --data-dir; the\n"
    "                           sealed key stays in --data-dir. Implies --persist-apps:\n"
    "                           nodes on one store follow each other's apps\n"
    "  --join HOST:PORT         join the cluster of the node at HOST:PORT: it releases\n"
    "                           the data key over attested keys when this node's\n"
    "                           measurement is its own or one it allows (first start)\n"
    "  --join-allow MEASUREMENT another measurement (hex) this node lets join or\n"
    "                           accepts as the member it joins (upgrades; up to 8)\n"
    "  --join-root-ca FILE      Intel's root CA (PEM) to check SGX/TDX quotes of joins\n"
    "  --join-snp-vcek FILE     a chip's VCEK or VLEK (PEM/DER) to check SEV-SNP joins\n"
    "                           (repeat for each chip, up to 8)\n"
    "  --join-snp-ca FILE       AMD's ASK and ARK (PEM) the VCEK must chain to\n"
    "  --join-collateral DIR    vendor collateral: joins' TCB status is evaluated\n"
    "  --join-require-tcb STATUS  the worst TCB status a join may have (as verify)\n"
    "  --tee KIND               trusted execution environment: auto, sim, sgx, tdx,\n"
    "                           sev-snp (default auto: probes the hardware; falls back\n"
    "                           to sim only with --dev; --tee sim is always allowed\n"
    "                           and announced loudly)\n"
    "  --ca-cert FILE --ca-key FILE\n"
    "                           operator intermediate CA (PEM) to issue the RA-TLS\n"
    "                           certificates; given once, then sealed in --data-dir\n"
    "  --token TOKEN            management bearer token (\"auth\" field of requests,\n"
    "                           'authorization: Bearer' over HTTP); also read from\n"
    "                           the file given with --token-file\n"
    "  --token-file FILE        read the management token from FILE\n"
    "  --management-ca FILE     client certificates chaining to this CA (PEM) may manage\n"
    "  --outbound-ca FILE       CA bundle (PEM) apps' outgoing TLS calls are checked\n"
    "                           against (default: the system bundle)\n"
    "  --peer-sgx-root-ca FILE  Intel's SGX root CA (PEM): attested outbound rules accept\n"
    "                           SGX/TDX peers whose quotes verify under it\n"
    "  --peer-snp-vcek FILE     a chip's VCEK (PEM/DER): attested outbound rules accept\n"
    "                           SEV-SNP peers whose reports it signs\n"
    "  --peer-snp-ca FILE       AMD's ASK and ARK (PEM) peers' VCEK must chain to\n"
    "  --peer-collateral DIR    vendor collateral: peers' TCB status is evaluated\n"
    "  --peer-require-tcb STATUS  the worst TCB status a peer may have (as verify)\n"
    "                           (the anchor files are committed as core.peer_anchors)\n"
    "  --persist-apps           keep loaded apps sealed in the store and reload them at\n"
    "                           start\n"
    "  --tier TIER              how apps run: auto (default: interpreted at once, compiled\n"
    "                           to native code in the background), interp, or compiled\n"
    "                           (compiled before the load answers). Where the TEE cannot\n"
    "                           add executable pages (SGX without EDMM), auto stays\n"
    "                           interpreted and compiled is refused\n"
    "  --bounds-checks MODE     how compiled code keeps memory accesses in bounds:\n"
    "                           explicit (default: a compare per access, any TEE) or\n"
    "                           guard (8 GiB of address space per memory, faults become\n"
    "                           traps; Linux, TDX and SEV-SNP only, not under SGX)\n"
    "  --code-cache DIR         where compiled code is kept, sealed (default\n"
    "                           DATA-DIR/code-cache); servers of one build on one\n"
    "                           machine may share a directory\n"
    "  --sgx-edmm               the Gramine manifest sets sgx.edmm_enable = true (SGX2):\n"
    "                           the compiled tier may run under --tee sgx\n"
    "  --max-body-size BYTES    largest HTTP request body for apps (default 32M)\n"
    "  --header-timeout SECONDS an HTTP request head must arrive within this (default 10)\n"
    "  --no-console             do not serve the web console at\n"
    "                           /.well-known/enclave-os/console/ (nor its live log)\n"
    "  --workers N              network worker threads (default: one per CPU)\n"
    "  --app-threads N          threads running apps' requests, loads and calls\n"
    "                           (default: 4 per CPU, at least 8); requests beyond\n"
    "                           64 per thread waiting get 503\n"
    "  --max-request-ms MS      time budget of a request, instantiation included, for\n"
    "                           apps that set none at load (default 30000); past it\n"
    "                           the app stops and the request fails\n"
    "  --instance-pool N        ready instances kept per app and reset between\n"
    "                           requests (default 2; 0 = a fresh one per request);\n"
    "                           unused ones are freed after 10 seconds\n"
    "  --dev                    open development mode: management requests (load,\n"
    "                           unload, Shutdown) are accepted from loopback clients\n"
    "                           without credentials, and the simulated TEE is allowed.\n"
    "                           Never use in production.\n"
    "  --log-level LEVEL        debug, info, warn, error or off (default info)\n"
    "  --max-frame-size BYTES   largest request frame (default 256M; suffixes K, M, G;\n"
    "                           at most 511M). Larger frames get an Error and the\n"
    "                           connection is closed.\n"
    "  --idle-timeout SECONDS   close connections idle this long (default 60)\n"
    "  --drain-timeout SECONDS  on shutdown, how long requests in flight may take\n"
    "                           (default 10)\n"
    "  -h, --help               show this help\n\n"
    "Exit status: 0 after a graceful shutdown, 1 when the server cannot start,\n"
    "2 for a usage error, 3 when the requested TEE is not available.\n",
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
    "data, and the certificate carries no hardware evidence (it is",
    "simulated). Verifiers refuse it without --allow-simulated.",
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
             "%d worker%s, %d app thread%s; data dir %s)",
             eos_net_version(), host, port, cfg->tee_name, cfg->workers,
             cfg->workers == 1 ? "" : "s", cfg->app_threads, cfg->app_threads == 1 ? "" : "s",
             data_dir);
    if (!cfg->console_off)
        EOS_INFO("serve", "web console: https://%s:%d" EOS_CONSOLE_PREFIX " (assets %s)", host,
                 port, eos_console_hash_hex());
    if (strcmp(cfg->tee_name, "sim") == 0)
        warn_box(sim_warning, EOS_ARRAY_LEN(sim_warning));
    if (cfg->dev)
        warn_box(dev_warning, EOS_ARRAY_LEN(dev_warning));
}

/* Settles the tier against what the build and the TEE allow: SGX adds
 * executable pages only with EDMM, which Gramine does not let the enclave
 * query, so the operator states it (--sgx-edmm). auto falls back to the
 * interpreter with *note saying why; compiled is refused (exit status 1). */
static int pick_tier(eos_apps_config *acfg, const char *tee_name, int edmm, const char **note)
{
    const char *why = NULL;
    if (!eos_wasm_jit_available())
        why = "this build has no compiled tier (built without LLVM)";
    else if (strcmp(tee_name, "sgx") == 0 && !edmm)
        why = "SGX without EDMM cannot add executable pages (pass --sgx-edmm when the "
              "Gramine manifest sets sgx.edmm_enable = true)";
    *note = NULL;
    acfg->no_compiled_tier = why;
    if (!why || acfg->tier == EOS_WASM_TIER_INTERP) {
        if (acfg->tier == EOS_WASM_TIER_AUTO)
            *note = "(interpreted at once, compiled to native code in the background)";
        return 0;
    }
    if (acfg->tier == EOS_WASM_TIER_COMPILED) {
        fprintf(stderr, "enclave-os serve: --tier compiled is not possible here: %s\n", why);
        return EOS_CLI_EXIT_FAIL;
    }
    acfg->tier = EOS_WASM_TIER_INTERP;
    *note = why;
    return 0;
}

/* Settles --bounds-checks guard against the TEE and the build: never under
 * SGX (an enclave's address space is fixed at build time and far too small
 * for 8 GiB per memory, and its faults reach Gramine first), nor where the
 * engine cannot install its fault handler. Refused with exit status 1. */
static int pick_bounds(eos_apps_config *acfg, const char *tee_name)
{
    if (acfg->bounds != EOS_WASM_BOUNDS_GUARD || acfg->tier == EOS_WASM_TIER_INTERP)
        return 0;
    const char *why = NULL;
    if (strcmp(tee_name, "sgx") == 0)
        why = "SGX enclaves have a fixed, small address space (use explicit)";
    else if (acfg->no_compiled_tier)
        why = acfg->no_compiled_tier;
    else
        eos_wasm_bounds_guard_supported(&why);
    if (!why)
        return 0;
    fprintf(stderr, "enclave-os serve: --bounds-checks guard is not possible here: %s\n", why);
    return EOS_CLI_EXIT_FAIL;
}

typedef struct serve_opts {
    const char *ca_cert, *ca_key, *mgmt_ca, *store, *join;
    char token_buf[512];
    /* --join-allow measurements and the policy joins are checked under */
    uint8_t allowed_buf[8][64];
    const uint8_t *allowed[8];
    size_t allowed_sizes[8];
    eos_apps_join_policy policy;
    eos_ratls_verify_opts verify; /* --join-snp-ca, --join-collateral, --join-require-tcb */
    eos_ratls_verify_opts peer;   /* --peer-*: anchors of attested outbound rules */
    const char *vceks[8];
    eos_tee *tee;
    eos_tee *cache_tee; /* seals a shared --code-cache under the simulation */
    eos_ratls_server *ratls;
    eos_kv *kv;
} serve_opts;

static int read_token(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        n--;
    buf[n] = 0;
    return n ? 0 : -1;
}

/* Any client certificate is accepted during the handshake; whether it chains
 * to the management CA is read afterwards (SSL_get_verify_result), so clients
 * without one still connect for apps and read-only requests. */
static int accept_any_cert(int ok, X509_STORE_CTX *ctx)
{
    (void)ok;
    (void)ctx;
    return 1;
}

static int tls_hook(void *ud, SSL_CTX *ctx, eos_diag *d)
{
    serve_opts *so = ud;
    int rc = eos_ratls_server_configure_ctx(so->ratls, ctx, d);
    if (rc < 0)
        return rc;
    if (so->mgmt_ca && SSL_CTX_load_verify_locations(ctx, so->mgmt_ca, NULL) != 1)
        return eos_diag_set(d, EOS_ETLS, "tls", -1,
                            "cannot read the management CA '%s' (PEM expected)", so->mgmt_ca);
    /* Every client is asked for a certificate and none is required: the
     * management CA judges it for management, and each app's caller policy
     * for the app's routes (its own client CA), so the handshake never
     * fails over one. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any_cert);
    return 0;
}

/* Wipes and frees a CA handed over on joining (NULL allowed). */
static void drop_ca(uint8_t *ca, size_t size)
{
    if (ca) {
        OPENSSL_cleanse(ca, size);
        eos_free(ca, size);
    }
}

/* Opens the code cache in dir (NULL: <data_dir>/code-cache). The simulated
 * TEE seals to a key file in its data directory, which servers sharing a
 * cache directory do not share: their entries are sealed with a simulated
 * TEE whose key file is in the cache directory. A hardware TEE's sealing key
 * is the same for every server of one build on one machine. */
static int open_code_cache(serve_opts *so, const char *data_dir, const char *dir,
                           eos_apps_code_cache **out, eos_diag *d)
{
    if (!dir)
        return eos_apps_code_cache_new(so->tee, data_dir, out, d);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return eos_diag_set(d, EOS_EIO, "code-cache", -1, "cannot create %s: %s", dir,
                            strerror(errno));
    eos_tee *tee = so->tee;
    if (strcmp(eos_tee_name(so->tee), "sim") == 0) {
        eos_tee_config tc;
        memset(&tc, 0, sizeof tc);
        tc.kind = "sim";
        tc.data_dir = dir;
        int rc = eos_tee_open(&tc, &so->cache_tee, d);
        if (rc < 0)
            return rc;
        tee = so->cache_tee;
    }
    return eos_apps_code_cache_open(tee, dir, out, d);
}

/* Opens the TEE, the store and the RA-TLS certificate manager. Returns 0 or
 * the exit status. */
static int open_backends(serve_opts *so, eos_net_server_config *cfg, const char *tee,
                         const char *data_dir)
{
    eos_diag d;
    eos_diag_init(&d);
    eos_tee_config tc;
    memset(&tc, 0, sizeof tc);
    tc.kind = tee;
    tc.data_dir = data_dir;
    int rc = eos_tee_open(&tc, &so->tee, &d);
    if (rc < 0 && strcmp(tee, "auto") == 0 && cfg->dev) {
        EOS_WARN("serve", "--tee auto found no TEE hardware; --dev: using the simulation (sim)");
        tc.kind = "sim";
        eos_diag_init(&d);
        rc = eos_tee_open(&tc, &so->tee, &d);
    }
    if (rc < 0) {
        fprintf(stderr, "enclave-os serve: TEE '%s' is not available: %s\n", tee,
                d.message[0] ? d.message : eos_strerror(rc));
        return EOS_CLI_EXIT_UNAVAILABLE;
    }
    eos_diag_init(&d);
    eos_kv_config kc;
    memset(&kc, 0, sizeof kc);
    kc.data_dir = data_dir;
    kc.tee = so->tee;
    uint8_t joined[32];
    uint8_t *ca = NULL;
    size_t ca_size = 0;
    if (so->join) {
        /* Once joined, the key and CA are sealed here: later starts unseal them. */
        char sealed[4200];
        snprintf(sealed, sizeof sealed, "%s/master.sealed", data_dir);
        if (access(sealed, F_OK) != 0) {
            if ((rc = eos_cli__join(so->join, so->tee, &so->policy, joined, &ca, &ca_size, &d)) <
                0) {
                fprintf(stderr, "enclave-os serve: cannot join the cluster: %s\n", d.message);
                return EOS_CLI_EXIT_FAIL;
            }
            kc.master_key = joined;
            if (ca && so->ca_cert)
                EOS_WARN("serve", "--ca-cert is given: this node keeps it rather than the "
                                  "cluster's CA it was handed");
        }
    }
    if (so->store) {
        eos_kv_pg_config pc = {.conninfo = so->store};
        if ((rc = eos_kv_backend_pg(&pc, &kc.backend, &d)) < 0) {
            fprintf(stderr, "enclave-os serve: cannot use the PostgreSQL store: %s\n", d.message);
            drop_ca(ca, ca_size);
            return EOS_CLI_EXIT_FAIL;
        }
    }
    rc = eos_kv_open(&kc, &so->kv, &d);
    OPENSSL_cleanse(joined, sizeof joined);
    if (rc < 0) {
        fprintf(stderr, "enclave-os serve: cannot open the store in '%s': %s\n", data_dir,
                d.message[0] ? d.message : eos_strerror(rc));
        drop_ca(ca, ca_size);
        return EOS_CLI_EXIT_FAIL;
    }
    eos_diag_init(&d);
    eos_ratls_server_options ro;
    memset(&ro, 0, sizeof ro);
    ro.data_dir = data_dir;
    ro.ca_cert_file = so->ca_cert;
    ro.ca_key_file = so->ca_key;
    ro.ca_blob = ca;
    ro.ca_blob_size = ca_size;
    rc = eos_ratls_server_new(so->tee, &ro, &so->ratls, &d);
    drop_ca(ca, ca_size);
    if (rc < 0) {
        fprintf(stderr, "enclave-os serve: cannot set up RA-TLS: %s\n",
                d.message[0] ? d.message : eos_strerror(rc));
        return EOS_CLI_EXIT_FAIL;
    }
    return 0;
}

/* The server loads and unloads apps of tens of MB on any of its threads.
 * glibc's defaults keep such memory: freeing a large block raises the mmap
 * and trim thresholds (so later blocks come from, and stay in, the heap),
 * and every thread may get its own arena of 64 MB heaps. Fixed thresholds
 * and one arena per CPU let unloaded apps' memory go back to the system. */
static void tune_allocator(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 20);
    mallopt(M_ARENA_MAX, cpus > 0 && cpus < 64 ? (int)cpus : 8);
}

static int run(int argc, char **argv)
{
    const eos_cli_command *cmd = &eos_cli_serve;
    enum {
        O_LISTEN = 256,
        O_DATA,
        O_TEE,
        O_WORKERS,
        O_APP_THREADS,
        O_DEV,
        O_LOG,
        O_MAXF,
        O_IDLE,
        O_DRAIN,
        O_CACERT,
        O_CAKEY,
        O_TOKEN,
        O_TOKENFILE,
        O_MGMTCA,
        O_PERSIST,
        O_MAXBODY,
        O_HDRTIMEOUT,
        O_STORE,
        O_JOIN,
        O_JOIN_ALLOW,
        O_JOIN_CA,
        O_JOIN_VCEK,
        O_JOIN_SNPCA,
        O_JOIN_COLL,
        O_JOIN_TCB,
        O_NOCONSOLE,
        O_TAMPER,
        O_MAXREQ,
        O_POOL,
        O_OUTCA,
        O_PEER_SGX,
        O_PEER_VCEK,
        O_PEER_SNPCA,
        O_PEER_COLL,
        O_PEER_TCB,
        O_TIER,
        O_BOUNDS,
        O_CODECACHE,
        O_EDMM
    };
    static const struct option opts[] = {
        {"listen", required_argument, 0, O_LISTEN},
        {"data-dir", required_argument, 0, O_DATA},
        {"tee", required_argument, 0, O_TEE},
        {"workers", required_argument, 0, O_WORKERS},
        {"app-threads", required_argument, 0, O_APP_THREADS},
        {"dev", no_argument, 0, O_DEV},
        {"log-level", required_argument, 0, O_LOG},
        {"max-frame-size", required_argument, 0, O_MAXF},
        {"idle-timeout", required_argument, 0, O_IDLE},
        {"drain-timeout", required_argument, 0, O_DRAIN},
        {"ca-cert", required_argument, 0, O_CACERT},
        {"ca-key", required_argument, 0, O_CAKEY},
        {"token", required_argument, 0, O_TOKEN},
        {"token-file", required_argument, 0, O_TOKENFILE},
        {"management-ca", required_argument, 0, O_MGMTCA},
        {"outbound-ca", required_argument, 0, O_OUTCA},
        {"peer-sgx-root-ca", required_argument, 0, O_PEER_SGX},
        {"peer-snp-vcek", required_argument, 0, O_PEER_VCEK},
        {"peer-snp-ca", required_argument, 0, O_PEER_SNPCA},
        {"peer-collateral", required_argument, 0, O_PEER_COLL},
        {"peer-require-tcb", required_argument, 0, O_PEER_TCB},
        {"persist-apps", no_argument, 0, O_PERSIST},
        {"max-body-size", required_argument, 0, O_MAXBODY},
        {"header-timeout", required_argument, 0, O_HDRTIMEOUT},
        {"store", required_argument, 0, O_STORE},
        {"join", required_argument, 0, O_JOIN},
        {"join-allow", required_argument, 0, O_JOIN_ALLOW},
        {"join-root-ca", required_argument, 0, O_JOIN_CA},
        {"join-snp-vcek", required_argument, 0, O_JOIN_VCEK},
        {"join-snp-ca", required_argument, 0, O_JOIN_SNPCA},
        {"join-collateral", required_argument, 0, O_JOIN_COLL},
        {"join-require-tcb", required_argument, 0, O_JOIN_TCB},
        {"no-console", no_argument, 0, O_NOCONSOLE},
        {"tier", required_argument, 0, O_TIER},
        {"bounds-checks", required_argument, 0, O_BOUNDS},
        {"code-cache", required_argument, 0, O_CODECACHE},
        {"sgx-edmm", no_argument, 0, O_EDMM},
        /* Tests only, undocumented: the console's tampered-manifest check. */
        {"console-test-tamper-manifest", no_argument, 0, O_TAMPER},
        {"max-request-ms", required_argument, 0, O_MAXREQ},
        {"instance-pool", required_argument, 0, O_POOL},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    serve_opts so;
    memset(&so, 0, sizeof so);
    eos_net_server_config cfg;
    eos_net_server_config_init(&cfg);
    eos_apps_config acfg;
    memset(&acfg, 0, sizeof acfg);
    acfg.pool_size = 2;
    const char *data_dir = ".eos-data";
    const char *tee = "auto";
    const char *tier = "auto";
    const char *bounds = "explicit";
    const char *code_cache_dir = NULL;
    int edmm = 0;
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
        case O_JOIN:
            so.join = optarg;
            break;
        case O_JOIN_CA:
            so.policy.root_ca_file = optarg;
            break;
        case O_JOIN_VCEK:
            if (so.policy.snp_vcek_count >= 8)
                return eos_cli__usage(cmd, "--join-snp-vcek: at most 8");
            so.vceks[so.policy.snp_vcek_count++] = optarg;
            so.policy.snp_vceks = so.vceks;
            break;
        case O_JOIN_SNPCA:
            so.verify.snp_ca_file = optarg;
            so.policy.verify = &so.verify;
            break;
        case O_JOIN_COLL:
        case O_JOIN_TCB: {
            /* The same values as `enclave-os verify --collateral/--require-tcb`. */
            eos_diag od;
            eos_diag_init(&od);
            if (eos_ratls_verify_option(&so.verify,
                                        c == O_JOIN_COLL ? "--collateral" : "--require-tcb", optarg,
                                        &od) != 1)
                return eos_cli__usage(cmd, "%s", od.message);
            so.policy.verify = &so.verify;
            break;
        }
        case O_JOIN_ALLOW: {
            size_t i = so.policy.allowed_count, n = strlen(optarg) / 2;
            if (i >= 8 || n == 0 || n > 64 || strlen(optarg) != 2 * n ||
                eos_hex_decode(optarg, so.allowed_buf[i], n) != 0)
                return eos_cli__usage(cmd, "--join-allow wants a measurement in hex (up to 8)");
            so.allowed[i] = so.allowed_buf[i];
            so.allowed_sizes[i] = n;
            so.policy.allowed = so.allowed;
            so.policy.allowed_sizes = so.allowed_sizes;
            so.policy.allowed_count = i + 1;
            break;
        }
        case O_STORE:
            if (!eos_kv_backend_is_pg_uri(optarg))
                return eos_cli__usage(cmd, "--store wants postgres://... or service=NAME");
            so.store = optarg;
            acfg.persist = 1; /* nodes sharing a store share their apps */
            break;
        case O_WORKERS:
            if (eos_cli__parse_uint(optarg, 1, 256, &v) < 0)
                return eos_cli__usage(cmd, "--workers wants a number from 1 to 256, not '%s'",
                                      optarg);
            cfg.workers = (int)v;
            break;
        case O_MAXREQ:
            if (eos_cli__parse_uint(optarg, 1, 3600000, &v) < 0)
                return eos_cli__usage(
                    cmd, "--max-request-ms wants a number from 1 to 3600000, not '%s'", optarg);
            acfg.max_request_ms = (uint32_t)v;
            break;
        case O_POOL:
            if (eos_cli__parse_uint(optarg, 0, 1024, &v) < 0)
                return eos_cli__usage(
                    cmd, "--instance-pool wants a number from 0 to 1024, not '%s'", optarg);
            acfg.pool_size = (uint32_t)v;
            break;
        case O_APP_THREADS:
            if (eos_cli__parse_uint(optarg, 1, 1024, &v) < 0)
                return eos_cli__usage(cmd, "--app-threads wants a number from 1 to 1024, not '%s'",
                                      optarg);
            cfg.app_threads = (int)v;
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
            if (eos_cli__parse_size(optarg, &v) < 0 || v < 64 || v > EOS_PROTO_MAX_FRAME_LIMIT)
                return eos_cli__usage(cmd, "--max-frame-size wants 64 to %zu bytes, not '%s'",
                                      EOS_PROTO_MAX_FRAME_LIMIT, optarg);
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
        case O_CACERT:
            so.ca_cert = optarg;
            break;
        case O_CAKEY:
            so.ca_key = optarg;
            break;
        case O_TOKEN:
            acfg.token = optarg;
            break;
        case O_TOKENFILE:
            if (read_token(optarg, so.token_buf, sizeof so.token_buf) < 0)
                return eos_cli__usage(cmd, "cannot read a token from '%s'", optarg);
            acfg.token = so.token_buf;
            break;
        case O_OUTCA:
            if (access(optarg, R_OK) != 0)
                return eos_cli__usage(cmd, "cannot read the outbound CA bundle '%s'", optarg);
            acfg.outbound_ca = optarg;
            break;
        case O_PEER_SGX:
        case O_PEER_VCEK:
        case O_PEER_SNPCA:
            if (access(optarg, R_OK) != 0)
                return eos_cli__usage(cmd, "cannot read the peer trust anchor '%s'", optarg);
            *(c == O_PEER_SGX    ? &so.peer.sgx_root_ca_file
              : c == O_PEER_VCEK ? &so.peer.snp_vcek_file
                                 : &so.peer.snp_ca_file) = optarg;
            acfg.peer_anchors = &so.peer;
            break;
        case O_PEER_COLL:
        case O_PEER_TCB: {
            eos_diag od;
            eos_diag_init(&od);
            if (eos_ratls_verify_option(&so.peer,
                                        c == O_PEER_COLL ? "--collateral" : "--require-tcb", optarg,
                                        &od) != 1)
                return eos_cli__usage(cmd, "%s", od.message);
            acfg.peer_anchors = &so.peer;
            break;
        }
        case O_MGMTCA:
            so.mgmt_ca = optarg;
            break;
        case O_PERSIST:
            acfg.persist = 1;
            break;
        case O_MAXBODY:
            if (eos_cli__parse_size(optarg, &v) < 0 || v < 1024)
                return eos_cli__usage(cmd, "--max-body-size wants a size such as 32M");
            cfg.max_body_size = (size_t)v;
            break;
        case O_HDRTIMEOUT:
            if (eos_cli__parse_uint(optarg, 1, 3600, &v) < 0)
                return eos_cli__usage(cmd, "--header-timeout wants 1 to 3600 seconds");
            cfg.header_timeout_ms = (unsigned)v * 1000;
            break;
        case O_NOCONSOLE:
            cfg.console_off = 1;
            break;
        case O_TAMPER:
            cfg.console_test_tamper = 1;
            break;
        case O_CODECACHE:
            code_cache_dir = optarg;
            break;
        case O_TIER:
            tier = optarg;
            break;
        case O_BOUNDS:
            bounds = optarg;
            break;
        case O_EDMM:
            edmm = 1;
            break;
        default:
            return eos_cli__option_rest(cmd, c, argv);
        }
    }
    if (optind < argc)
        return eos_cli__usage(cmd, "unexpected argument '%s'", argv[optind]);

    if (strcmp(tee, "auto") != 0 && strcmp(tee, "sim") != 0 && strcmp(tee, "sgx") != 0 &&
        strcmp(tee, "tdx") != 0 && strcmp(tee, "sev-snp") != 0)
        return eos_cli__usage(cmd, "--tee wants auto, sim, sgx, tdx or sev-snp, not '%s'", tee);
    if (strcmp(tier, "auto") == 0)
        acfg.tier = EOS_WASM_TIER_AUTO;
    else if (strcmp(tier, "interp") == 0)
        acfg.tier = EOS_WASM_TIER_INTERP;
    else if (strcmp(tier, "compiled") == 0)
        acfg.tier = EOS_WASM_TIER_COMPILED;
    else
        return eos_cli__usage(cmd, "--tier wants auto, interp or compiled, not '%s'", tier);
    if (strcmp(bounds, "explicit") == 0)
        acfg.bounds = EOS_WASM_BOUNDS_EXPLICIT;
    else if (strcmp(bounds, "guard") == 0)
        acfg.bounds = EOS_WASM_BOUNDS_GUARD;
    else
        return eos_cli__usage(cmd, "--bounds-checks wants explicit or guard, not '%s'", bounds);
    if ((so.ca_cert != NULL) != (so.ca_key != NULL))
        return eos_cli__usage(cmd, "--ca-cert and --ca-key go together");
    if (acfg.token && strlen(acfg.token) < 16)
        return eos_cli__usage(cmd, "--token must be at least 16 characters");
    if (make_dir(data_dir) < 0) {
        fprintf(stderr, "enclave-os serve: cannot create the data directory '%s': %s\n", data_dir,
                strerror(errno));
        return EOS_CLI_EXIT_FAIL;
    }

    tune_allocator();
    eos_diag d;
    eos_diag_init(&d);
    eos_net_server *srv = NULL;
    eos_apps *apps = NULL;
    eos_apps_code_cache *code_cache = NULL;
    eos_console_log *console_log = NULL;
    if (cfg.console_test_tamper)
        EOS_WARN("serve", "--console-test-tamper-manifest: the manifest served is altered on "
                          "purpose (tests only)");
    /* The console's live log keeps the last lines logged, from the start. */
    if (!cfg.console_off && eos_console_log_new(0, &console_log) == 0) {
        eos_log_set_tap(eos_console_log_tap(console_log));
        cfg.console_log = console_log;
    }
    int rc = open_backends(&so, &cfg, tee, data_dir);
    if (rc != 0)
        goto out;
    cfg.tee_name = eos_tee_name(so.tee);
    const char *tier_note = NULL;
    rc = pick_tier(&acfg, cfg.tee_name, edmm, &tier_note);
    if (rc != 0)
        goto out;
    if ((rc = pick_bounds(&acfg, cfg.tee_name)) != 0)
        goto out;
    /* Compiled code is kept sealed in the data directory (or the directory
     * asked for): a restart links it instead of compiling again. */
    if (!acfg.no_compiled_tier &&
        open_code_cache(&so, data_dir, code_cache_dir, &code_cache, &d) == 0)
        acfg.code_cache = eos_apps_code_cache_hooks(code_cache);
    else if (d.message[0])
        EOS_WARN("serve", "no code cache: %s", d.message);
    eos_diag_init(&d);
    cfg.ratls = so.ratls;
    acfg.ratls = so.ratls;
    acfg.kv = so.kv;
    uint8_t console_hash[32];
    eos_console_hash(console_hash);
    if (!cfg.console_off)
        acfg.console_hash = console_hash;
    rc = eos_apps_new(&acfg, &apps, &d);
    if (rc < 0) {
        fprintf(stderr, "enclave-os serve: cannot start: %s\n",
                d.message[0] ? d.message : eos_strerror(rc));
        rc = EOS_CLI_EXIT_FAIL;
        goto out;
    }
    cfg.apps = apps;
    eos_apps_join_enable(apps, so.tee, &so.policy);
    cfg.tls_hook = tls_hook;
    cfg.tls_hook_ud = &so;
    cfg.management_ca = so.mgmt_ca != NULL;
    rc = eos_net_server_new(&cfg, &srv, &d);
    if (rc < 0) {
        fprintf(stderr, "enclave-os serve: cannot start: %s\n",
                d.message[0] ? d.message : eos_strerror(rc));
        rc = EOS_CLI_EXIT_FAIL;
        goto out;
    }
    if (acfg.persist && eos_apps_restore(apps, &d) < 0)
        EOS_WARN("serve", "cannot read the persisted apps: %s", d.message);
    eos_diag_init(&d);
    if (acfg.persist && eos_apps_cluster_start(apps, &d) < 0)
        EOS_WARN("serve", "cannot follow the cluster's apps: %s", d.message);
    if (!acfg.token && !so.mgmt_ca && !cfg.dev)
        EOS_WARN("serve", "no management credential (--token, --management-ca) and no --dev: "
                          "apps cannot be loaded or unloaded");
    if (acfg.tier == EOS_WASM_TIER_INTERP && strcmp(tier, "auto") == 0)
        EOS_WARN("serve", "execution tier: interp (--tier auto stays interpreted: %s)", tier_note);
    else
        EOS_INFO("serve", "execution tier: %s%s%s", eos_apps_tier_name(acfg.tier),
                 tier_note ? " " : "", tier_note ? tier_note : "");
    if (acfg.tier != EOS_WASM_TIER_INTERP)
        EOS_INFO("serve", "bounds checks of compiled code: %s",
                 acfg.bounds == EOS_WASM_BOUNDS_GUARD
                     ? "guard (8 GiB of address space per memory, faults become traps)"
                     : "explicit");

    /* Peers that vanish must not kill the process through SIGPIPE. The
     * handlers are in place before the banner says the server listens. */
    signal(SIGPIPE, SIG_IGN);
    running = srv;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    banner(eos_net_server_config_get(srv), eos_net_server_port(srv), data_dir);

    rc = eos_net_server_run(srv, &d);
    running = NULL;
    eos_net_server_free(srv);
    srv = NULL;
    if (rc < 0) {
        EOS_ERROR("serve", "server failed: %s", d.message[0] ? d.message : eos_strerror(rc));
        rc = EOS_CLI_EXIT_FAIL;
        goto out;
    }
    EOS_INFO("serve", "stopped");
    rc = EOS_CLI_EXIT_OK;
out:
    eos_net_server_free(srv);
    /* Background compilations stop at their next chunk and their threads are
     * joined: nothing compiles while the compiler's statics are torn down,
     * and nothing uses the code cache or the TEE once they are freed. A
     * compile thread starved of CPU (it runs below request work) is not
     * waited for past a few seconds: the process then ends with _exit,
     * the code cache and its TEE left alive for it. */
    size_t compiling = eos_wasm_jit_shutdown_within(SHUTDOWN_COMPILE_MS);
    if (compiling)
        EOS_WARN("serve",
                 "%zu background compilation%s still running after %u ms: exiting without "
                 "waiting (nothing is lost; the next start compiles again)",
                 compiling, compiling == 1 ? "" : "s", SHUTDOWN_COMPILE_MS);
    eos_apps_free(apps);
    if (!compiling) {
        eos_apps_code_cache_free(code_cache);
        eos_tee_free(so.cache_tee);
    }
    eos_ratls_server_free(so.ratls);
    eos_kv_close(so.kv);
    eos_tee_free(so.tee);
    /* Every thread that logs has stopped. */
    eos_log_set_tap(NULL);
    eos_console_log_free(console_log);
    if (compiling) {
        fflush(NULL);
        _exit(rc);
    }
    return rc;
}
