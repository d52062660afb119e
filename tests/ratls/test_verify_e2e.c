/* End to end: a loopback RA-TLS server (simulation TEE) and the `verify`
 * command (the enclave-os binary) run against it with the options of SPEC 5.4, checking exit codes
 * and the failing step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdarg.h>

#include "harness.h"
#include "tls_server.h"

static char dir[] = "/tmp/eos-ratls-e2e-XXXXXX";
static eos_tee *tee;
static eos_ratls_server *srv;
static test_tls_server *ts;
static char target[64];
static uint8_t code_a[32];

/* Runs `enclave-os verify` (the command lives in the CLI, on the ratls
 * layer's eos_ratls_verify_connect) with argv[1..]; its exit status. */
static int verify_main(int argc, char **argv)
{
    char *args[40];
    int n = 0;
    args[n++] = "enclave-os";
    for (int i = 0; i < argc && n < 39; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execv(EOS_CLI_BIN, args);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static int run(const char *first, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    argv[argc++] = "verify";
    argv[argc++] = target;
    va_start(ap, first);
    for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *))
        argv[argc++] = strdup(a);
    va_end(ap);
    argv[argc] = NULL;
    fflush(stdout);
    int rc = verify_main(argc, argv);
    fflush(stdout);
    for (int i = 2; i < argc; i++)
        free(argv[i]);
    return rc;
}

static void setup(void)
{
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK(mkdtemp(dir) != NULL);
    eos_tee_config tc = {.kind = "sim", .data_dir = dir};
    EOS_CHECK_INT(eos_tee_open(&tc, &tee, &d), 0);
    eos_ratls_server_options o = {.data_dir = dir, .server_name = "localhost"};
    EOS_CHECK_INT(eos_ratls_server_new(tee, &o, &srv, &d), 0);
    memset(code_a, 0xab, 32);
    eos_ratls_app apps[2] = {
        {.name = "alpha", .route = "/alpha", .hostname = "alpha.test", .env_json = "{\"K\":\"v\"}"},
        {.name = "beta", .route = "/beta"},
    };
    memcpy(apps[0].code_hash, code_a, 32);
    memset(apps[1].code_hash, 0xbe, 32);
    eos_ratls_config cfg = {.apps = apps, .app_count = 2};
    EOS_CHECK_INT(eos_ratls_server_set_config(srv, &cfg, &d), 0);
    int port = 0;
    EOS_CHECK_INT(test_tls_server_start(srv, 0, 1, &ts, &port), 0);
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
}

static void test_simulated_gate(void)
{
    EOS_CHECK_INT(run("--allow-simulated", NULL), 0);
    EOS_CHECK_INT(run(NULL), 1);
    EOS_CHECK_INT(run("--json", NULL), 1);
    EOS_CHECK_INT(run("--allow-simulated", "--json", "--require-manifest", NULL), 0);
}

static void test_expect_root(void)
{
    uint8_t root[32];
    char hex[65];
    eos_ratls_server_merkle_root(srv, root);
    eos_hex_encode(root, 32, hex);
    EOS_CHECK_INT(run("--allow-simulated", "--expect-root", hex, NULL), 0);
    hex[0] = hex[0] == '0' ? '1' : '0';
    EOS_CHECK_INT(run("--allow-simulated", "--expect-root", hex, NULL), 1);
}

static void test_code_hash(void)
{
    char arg[80], hex[65];
    eos_hex_encode(code_a, 32, hex);
    snprintf(arg, sizeof arg, "alpha=%s", hex);
    EOS_CHECK_INT(run("--allow-simulated", "--expect-code-hash", arg, NULL), 0);
    for (int i = 0; i < 64; i += 2)
        memcpy(hex + i, "be", 2);
    snprintf(arg, sizeof arg, "beta=%s", hex);
    EOS_CHECK_INT(run("--allow-simulated", "--expect-code-hash", arg, NULL), 0);
    memset(hex, 'c', 64);
    snprintf(arg, sizeof arg, "beta=%s", hex);
    EOS_CHECK_INT(run("--allow-simulated", "--expect-code-hash", arg, NULL), 1);
    snprintf(arg, sizeof arg, "gamma=%s", hex);
    EOS_CHECK_INT(run("--allow-simulated", "--expect-code-hash", arg, NULL), 1);
}

static void test_challenge(void)
{
    eos_ratls_verify_opts o = {.allow_simulated = 1};
    eos_ratls_verify_result r;
    eos_diag d;
    uint8_t nonce[40];
    char port[16];
    for (size_t i = 0; i < sizeof nonce; i++)
        nonce[i] = (uint8_t)(i * 7 + 1);
    o.nonce = nonce;
    o.nonce_size = sizeof nonce;
    strcpy(port, strchr(target, ':') + 1);
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_ratls_verify_connect("127.0.0.1", port, &o, &r, &d), 0);
    EOS_CHECK(strncmp(r.binding, "nonce:0108", 10) == 0);
    EOS_CHECK_INT(r.failed_step, EOS_RATLS_STEP_NONE);
    EOS_CHECK_INT(run("--allow-simulated", "--challenge", NULL), 0);
    /* The same nonce in deterministic verification of a challenge cert fails. */
    EOS_CHECK_INT(run("--challenge", NULL), 1);
}

static void test_manifest_file(void)
{
    uint8_t *m = NULL;
    size_t size = 0;
    char path[128], *json = NULL;
    size_t json_size = 0;
    EOS_CHECK_INT(eos_ratls_server_manifest(srv, &m, &size), 0);
    snprintf(path, sizeof path, "%s/manifest.bin", dir);
    FILE *f = fopen(path, "wb");
    fwrite(m, 1, size, f);
    fclose(f);
    EOS_CHECK_INT(run("--allow-simulated", "--manifest", path, "--require-manifest", NULL), 0);
    m[10] ^= 1;        /* a name byte: the root still matches, but core.ca_cert is renamed */
    m[size - 40] ^= 1; /* a leaf hash: the recomputed root no longer matches */
    f = fopen(path, "wb");
    fwrite(m, 1, size, f);
    fclose(f);
    EOS_CHECK_INT(run("--allow-simulated", "--manifest", path, NULL), 1);
    eos_free(m, size);
    EOS_CHECK_INT(eos_ratls_server_manifest_json(srv, &json, &json_size), 0);
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    f = fopen(path, "wb");
    fwrite(json, 1, json_size, f);
    fclose(f);
    eos_free(json, json_size + 1);
    EOS_CHECK_INT(run("--allow-simulated", "--manifest", path, NULL), 0);
}

static void test_ca_anchor(void)
{
    uint8_t *der = NULL;
    size_t size = 0;
    char path[128];
    EOS_CHECK_INT(eos_ratls_server_ca_der(srv, &der, &size), 0);
    const uint8_t *p = der;
    X509 *ca = d2i_X509(NULL, &p, (long)size);
    snprintf(path, sizeof path, "%s/ca.pem", dir);
    FILE *f = fopen(path, "w");
    PEM_write_X509(f, ca);
    fclose(f);
    X509_free(ca);
    eos_free(der, size);
    EOS_CHECK_INT(run("--allow-simulated", "--ca", path, NULL), 0);
    /* Another CA (a throwaway server's) must not anchor this chain. */
    char other[] = "/tmp/eos-ratls-e2e2-XXXXXX";
    EOS_CHECK(mkdtemp(other) != NULL);
    eos_tee_config tc = {.kind = "sim", .data_dir = other};
    eos_tee *t2 = NULL;
    eos_ratls_server *s2 = NULL;
    eos_ratls_server_options o = {.data_dir = other};
    EOS_CHECK_INT(eos_tee_open(&tc, &t2, NULL), 0);
    EOS_CHECK_INT(eos_ratls_server_new(t2, &o, &s2, NULL), 0);
    EOS_CHECK_INT(eos_ratls_server_ca_der(s2, &der, &size), 0);
    p = der;
    ca = d2i_X509(NULL, &p, (long)size);
    f = fopen(path, "w");
    PEM_write_X509(f, ca);
    fclose(f);
    X509_free(ca);
    eos_free(der, size);
    EOS_CHECK_INT(run("--allow-simulated", "--ca", path, NULL), 1);
    eos_ratls_server_free(s2);
    eos_tee_free(t2);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", other);
    EOS_CHECK_INT(system(cmd), 0);
}

static void test_measurement(void)
{
    uint8_t m[64];
    size_t ms = 0;
    char hex[129];
    EOS_CHECK_INT(eos_tee_measurement(tee, m, &ms), 0);
    eos_hex_encode(m, ms, hex);
    EOS_CHECK_INT(run("--allow-simulated", "--expect-measurement", hex, NULL), 0);
    hex[5] = hex[5] == 'a' ? 'b' : 'a';
    EOS_CHECK_INT(run("--allow-simulated", "--expect-measurement", hex, NULL), 1);
}

static void test_usage_errors(void)
{
    EOS_CHECK_INT(run("--expect-root", "xyz", NULL), 2);
    EOS_CHECK_INT(run("--bogus", NULL), 2);
    char *argv[] = {"verify", "noport", NULL};
    EOS_CHECK_INT(verify_main(2, argv), 2);
    char *argv2[] = {"verify", "127.0.0.1:1", "--allow-simulated", NULL};
    EOS_CHECK_INT(verify_main(3, argv2), 1);
}

static void test_no_manifest_server(void)
{
    test_tls_server *t2 = NULL;
    int port = 0;
    char saved[64];
    EOS_CHECK_INT(test_tls_server_start(srv, 0, 0, &t2, &port), 0);
    strcpy(saved, target);
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    EOS_CHECK_INT(run("--allow-simulated", NULL), 0);
    EOS_CHECK_INT(run("--allow-simulated", "--require-manifest", NULL), 1);
    /* Without a manifest, an app is checkable through its own certificate (SNI). */
    char arg[80], hex[65];
    eos_hex_encode(code_a, 32, hex);
    snprintf(arg, sizeof arg, "alpha=%s", hex);
    EOS_CHECK_INT(run("--allow-simulated", "--expect-code-hash", arg, NULL), 1);
    EOS_CHECK_INT(run("--allow-simulated", "--sni", "alpha.test", "--expect-code-hash", arg, NULL),
                  0);
    strcpy(target, saved);
    test_tls_server_stop(t2);
}

int main(void)
{
    setup();
    EOS_RUN(test_simulated_gate);
    EOS_RUN(test_expect_root);
    EOS_RUN(test_code_hash);
    EOS_RUN(test_challenge);
    EOS_RUN(test_manifest_file);
    EOS_RUN(test_ca_anchor);
    EOS_RUN(test_measurement);
    EOS_RUN(test_usage_errors);
    EOS_RUN(test_no_manifest_server);
    test_tls_server_stop(ts);
    eos_ratls_server_free(srv);
    eos_tee_free(tee);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return eos_test_finish();
}
