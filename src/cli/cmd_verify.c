/* `enclave-os verify HOST:PORT`: option parsing (SPEC 5.4), a fresh nonce
 * for --challenge, the checks (the client's eos_client_verify), and the
 * report, human-readable or --json, with every app and its code
 * hash from the manifest once that was checked against the certificate's
 * root. The exit status is 0 when every check passed, 1 when one failed, 2
 * on a usage error. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "cli.h"
#include "eos/client.h"
#include "eos/console.h"
#include "eos/proto.h"
#include "eos/ratls.h"

static int run(int argc, char **argv);

const eos_cli_command eos_cli_verify = {
    "verify",
    "verify a server's attestation (RA-TLS certificate) and list its apps",
    /* The options are printed by run itself. */
    NULL,
    run,
};

/* Writes s (n bytes) as a JSON string literal to out, which holds at least
 * 6 * n + 3 bytes; returns the length written (NUL-terminated). */
static size_t json_string(char *out, const char *s, size_t n)
{
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, 7, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    out[o] = 0;
    return o;
}

#define MAX_EXPECT 64

static void usage(FILE *f)
{
    fprintf(f, "usage: enclave-os verify HOST:PORT [options]\n"
               "       enclave-os verify --evidence FILE [options]   (a bare quote or report)\n"
               "  --ca FILE                  trust anchors (PEM) for the certificate chain\n"
               "  --allow-simulated          accept simulated evidence (development only)\n"
               "  --allow-debug              accept a TEE in debug mode\n"
               "  --expect-measurement HEX   MRENCLAVE / MRTD / SNP measurement / sim hash\n"
               "  --expect-root HEX          configuration Merkle root\n"
               "  --expect-code-hash NAME=HEX  an app's SHA-256 code hash (repeatable)\n"
               "  --manifest FILE            manifest (binary or JSON) instead of fetching it\n"
               "  --require-manifest         fail when no manifest can be checked\n"
               "  --challenge                send a fresh nonce in TLS extension 0xFFBB\n"
               "  --sni NAME                 server name to send (selects an app's certificate)\n"
               "  --sgx-root-ca FILE         Intel SGX root CA (PEM): check DCAP signatures\n"
               "  --snp-vcek FILE            the chip's VCEK (PEM/DER): check SEV-SNP signatures\n"
               "  --snp-ca FILE              AMD ASK+ARK (PEM) to chain the VCEK to\n"
               "  --collateral DIR           vendor collateral: evaluate the TCB status\n"
               "  --require-tcb LEVEL        worst TCB status accepted (e.g. UpToDate)\n"
               "  --at TIME                  check as of a UTC time (YYYY-MM-DDTHH:MM:SSZ)\n"
               "  --expect-report-data HEX   with --evidence: the 64-byte report data\n"
               "  --json                     print the report as JSON\n");
}

static int takes_value(const char *opt)
{
    static const char *const opts[] = {
        "--ca",          "--sgx-root-ca",      "--expect-measurement",
        "--expect-root", "--expect-code-hash", "--manifest",
        "--sni",         "--snp-vcek",         "--snp-ca",
        "--evidence",    "--expect-report-data"};
    for (size_t i = 0; i < EOS_ARRAY_LEN(opts); i++)
        if (strcmp(opt, opts[i]) == 0)
            return 1;
    return eos_ratls_verify_option_takes_value(opt);
}

static int read_file(const char *path, uint8_t **out, size_t *out_size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 4096, n = 0;
    uint8_t *b = eos_malloc(cap);
    while (b) {
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (n < cap)
            break;
        uint8_t *nb = eos_realloc(b, cap, cap * 2);
        if (!nb) {
            eos_free(b, cap);
            b = NULL;
        }
        b = nb;
        cap *= 2;
    }
    fclose(f);
    if (!b)
        return -1;
    *out = b;
    *out_size = cap; /* the allocation size; the caller frees with it */
    return (int)(n > (size_t)0x7fffffff ? -1 : (int)n);
}

static int parse_hex(const char *s, uint8_t *out, size_t max, size_t *out_size)
{
    size_t n = strlen(s);
    if (n == 0 || n % 2 || n / 2 > max || eos_hex_decode(s, out, n / 2) != 0)
        return -1;
    *out_size = n / 2;
    return 0;
}

static void hex_line(const char *label, const uint8_t *b, size_t n)
{
    char hex[2 * 64 + 1];
    eos_hex_encode(b, n, hex);
    printf("  %-15s %s\n", label, hex);
}

static const char *signature_text(const eos_ratls_verify_result *r)
{
    int snp = r->kind == EOS_TEE_KIND_SEV_SNP;
    if (r->quote_signature > 0 && r->tcb_status != EOS_RATLS_TCB_UNKNOWN)
        return snp ? "ok (VCEK, offline)" : "ok (DCAP, offline)";
    if (r->quote_signature > 0)
        return snp ? "ok (VCEK, offline; TCB status not evaluated: pass --collateral)"
                   : "ok (DCAP, offline; TCB status not evaluated: pass --collateral)";
    if (r->quote_signature < 0)
        return "FAILED";
    if (r->simulated)
        return "none (simulated)";
    return snp ? "not checked (pass --snp-vcek)" : "not checked (pass --sgx-root-ca)";
}

/* The console of the checked configuration: its leaf core.console is
 * SHA-256 of the console hash, so only a known hash (this build's) can be
 * named. */
static int console_ours(const eos_client_verify_result *v)
{
    uint8_t ours[32], leaf[32];
    eos_console_hash(ours);
    SHA256(ours, 32, leaf);
    return v->has_console && memcmp(leaf, v->console_leaf, 32) == 0;
}

static void print_human(const char *target, const eos_ratls_verify_opts *o,
                        const eos_client_verify_result *v, int rc, const eos_diag *d)
{
    const eos_ratls_verify_result *r = v->detail;
    const eos_client_verify_result *apps = v->apps_listed ? v : NULL;
    printf("enclave-os verify %s\n", target);
    if (r->failed_step != EOS_RATLS_STEP_CONNECT) {
        printf("  %-15s %s\n", "chain",
               r->failed_step == EOS_RATLS_STEP_CHAIN ? "FAILED"
               : r->chain_anchored                    ? "ok (anchored at --ca)"
                                   : "ok (signed by the presented CA; pass --ca to pin it)");
        if (r->kind != EOS_TEE_KIND_UNKNOWN) {
            printf("  %-15s %s%s\n", "tee", eos_tee_kind_name(r->kind),
                   r->simulated ? " (SIMULATED: no hardware protection)" : "");
            hex_line("measurement", r->measurement, r->measurement_size);
            if (r->binding[0])
                printf("  %-15s %s\n", "binding", r->binding);
            printf("  %-15s %s\n", "quote sig", signature_text(r));
            if (r->tcb_status != EOS_RATLS_TCB_UNKNOWN)
                printf("  %-15s %s (%s)\n", "tcb", eos_ratls_tcb_status_name(r->tcb_status),
                       r->tcb_detail);
        }
        int have_root =
            r->failed_step == EOS_RATLS_STEP_NONE || r->failed_step >= EOS_RATLS_STEP_MANIFEST;
        if (have_root) {
            hex_line("config root", r->merkle_root, 32);
            hex_line("apps hash", r->apps_hash, 32);
            printf("  %-15s %s\n", "manifest",
                   r->manifest_checked ? "ok (root recomputed and matches)"
                                       : (o->manifest ? "FAILED" : "not available"));
        }
        if (v->has_cert)
            hex_line("certificate", v->cert_sha256, 32);
        if (r->has_app) {
            printf("  %-15s %s (route %s)\n", "app", r->app_name, r->app_route);
            hex_line("code hash", r->app_code_hash, 32);
        }
        if (apps) {
            if (apps->app_count == 0)
                printf("  %-15s none loaded\n", "apps");
            for (size_t i = 0; i < apps->app_count; i++) {
                const eos_client_verified_app *a = &apps->apps[i];
                char hex[65];
                eos_hex_encode(a->code_hash, 32, hex);
                printf("  %-15s %-20s %s%s\n", i == 0 ? "apps" : "", a->name,
                       a->has_code_hash ? hex : "(code hash not listed by the server)",
                       !a->has_code_hash || a->confirmed ? "" : " MISMATCH: not the manifest's");
                if (a->confirmed)
                    printf("  %-15s %-20s route %s%s%s%s%s\n", "", "", a->route,
                           a->hostname ? ", host " : "", a->hostname ? a->hostname : "",
                           a->tier ? ", tier " : "", a->tier ? a->tier : "");
                /* Rules are kept only when they hash to wasm.NAME.outbound. */
                for (const char *p = a->outbound; p && *p;) {
                    size_t n = strcspn(p, "\n");
                    printf("  %-15s   %s %.*s%s\n", "", p == a->outbound ? "outbound:" : "         ",
                           (int)n, p,
                           p == a->outbound ? "  (ok: the manifest's wasm.NAME.outbound)" : "");
                    p += n + (p[n] == '\n');
                }
            }
        } else if (have_root) {
            printf("  %-15s not listed (no manifest was checked)\n", "apps");
        }
        if (apps && apps->has_outbound_ca == 1) {
            char hex[65];
            eos_hex_encode(apps->outbound_ca, 32, hex);
            printf("  %-15s %s (SHA-256 of the CA bundle apps' outgoing TLS trusts)\n",
                   "outbound CA", hex);
        } else if (apps && apps->has_outbound_ca) {
            char hex[65];
            eos_hex_encode(apps->outbound_ca_leaf, 32, hex);
            printf("  %-15s leaf core.outbound_ca %s (the server names no bundle hash that "
                   "hashes to it)\n", "outbound CA", hex);
        } else if (apps) {
            printf("  %-15s the system's bundle (core.outbound_ca is not set)\n", "outbound CA");
        }
        if (apps && console_ours(apps)) {
            printf("  %-15s %s (this build's web console)\n", "console", eos_console_hash_hex());
        } else if (apps && apps->has_console) {
            char hex[65];
            eos_hex_encode(apps->console_leaf, 32, hex);
            printf("  %-15s not this build's: core.console %s, this build's console %s\n",
                   "console", hex, eos_console_hash_hex());
        } else if (apps) {
            printf("  %-15s none in the configuration (served without a console)\n", "console");
        }
    }
    if (rc == 0)
        printf("RESULT: PASS\n");
    else
        printf("RESULT: FAIL at step \"%s\": %s\n", eos_ratls_step_name(r->failed_step),
               d->message[0] ? d->message : eos_strerror(rc));
}

/* Writes s as a JSON string literal, or null. */
static void put_json_str(const char *s)
{
    if (!s) {
        printf("null");
        return;
    }
    size_t n = strlen(s);
    char *t = malloc(6 * n + 3);
    if (!t) {
        printf("null");
        return;
    }
    json_string(t, s, n);
    fputs(t, stdout);
    free(t);
}

/* v: the whole check of a server, NULL for bare evidence. */
static void print_json(const eos_ratls_verify_result *r, const eos_client_verify_result *v,
                       int rc, const eos_diag *d)
{
    const eos_client_verify_result *apps = v && v->apps_listed ? v : NULL;
    char hex[129], msg[6 * sizeof d->message + 3];
    json_string(msg, d->message, strlen(d->message));
    printf("{\"ok\":%s,\"failed_step\":\"%s\",\"message\":%s", rc == 0 ? "true" : "false",
           eos_ratls_step_name(r->failed_step), msg);
    printf(",\"tee\":\"%s\",\"simulated\":%s,\"debug\":%s", eos_tee_kind_name(r->kind),
           r->simulated ? "true" : "false", r->debug ? "true" : "false");
    eos_hex_encode(r->measurement, r->measurement_size, hex);
    printf(",\"measurement\":\"%s\"", hex);
    eos_hex_encode(r->report_data, 64, hex);
    printf(",\"report_data\":\"%s\",\"binding\":\"%s\"", hex, r->binding);
    printf(",\"chain_anchored\":%s,\"quote_signature\":%d,\"manifest_checked\":%s",
           r->chain_anchored ? "true" : "false", r->quote_signature,
           r->manifest_checked ? "true" : "false");
    char detail[6 * sizeof r->tcb_detail + 3];
    json_string(detail, r->tcb_detail, strlen(r->tcb_detail));
    printf(",\"tcb_status\":\"%s\",\"tcb_detail\":%s", eos_ratls_tcb_status_name(r->tcb_status),
           detail);
    eos_hex_encode(r->merkle_root, 32, hex);
    printf(",\"merkle_root\":\"%s\"", hex);
    eos_hex_encode(r->apps_hash, 32, hex);
    printf(",\"apps_hash\":\"%s\"", hex);
    if (r->has_app) {
        char name[6 * sizeof r->app_name + 3], route[6 * sizeof r->app_route + 3];
        json_string(name, r->app_name, strlen(r->app_name));
        json_string(route, r->app_route, strlen(r->app_route));
        eos_hex_encode(r->app_code_hash, 32, hex);
        printf(",\"app\":{\"name\":%s,\"route\":%s,\"code_hash\":\"%s\"}", name, route, hex);
    }
    if (v && v->has_cert) {
        eos_hex_encode(v->cert_sha256, 32, hex);
        printf(",\"cert_sha256\":\"%s\"", hex);
    }
    /* Every app of the manifest checked against the certificate's root; null
     * when no manifest was checked. Values appear only when confirmed. */
    printf(",\"apps\":");
    if (apps) {
        printf("[");
        for (size_t i = 0; i < apps->app_count; i++) {
            const eos_client_verified_app *a = &apps->apps[i];
            printf("%s{\"name\":", i ? "," : "");
            put_json_str(a->name);
            printf(",\"code_hash\":");
            if (a->has_code_hash) {
                eos_hex_encode(a->code_hash, 32, hex);
                printf("\"%s\"", hex);
            } else {
                printf("null");
            }
            printf(",\"confirmed\":%s,\"route\":", a->confirmed ? "true" : "false");
            put_json_str(a->route);
            printf(",\"hostname\":");
            put_json_str(a->hostname);
            printf(",\"tier\":");
            put_json_str(a->tier);
            printf(",\"outbound\":");
            put_json_str(a->outbound);
            printf(",\"commitments\":{");
            for (size_t j = 0; j < a->commitment_count; j++) {
                put_json_str(a->commitments[j].name);
                eos_hex_encode(a->commitments[j].hash, 32, hex);
                printf(":\"%s\"%s", hex, j + 1 < a->commitment_count ? "," : "");
            }
            printf("}}");
        }
        printf("]");
        if (apps->has_outbound_ca == 1) {
            eos_hex_encode(apps->outbound_ca, 32, hex);
            printf(",\"outbound_ca\":\"%s\"", hex);
        }
        if (apps->has_outbound_ca) {
            eos_hex_encode(apps->outbound_ca_leaf, 32, hex);
            printf(",\"outbound_ca_leaf\":\"%s\"", hex);
        }
        /* The console: its hash when it is this build's, else only its leaf. */
        if (apps->has_console) {
            eos_hex_encode(apps->console_leaf, 32, hex);
            printf(",\"console_leaf\":\"%s\",\"console\":", hex);
            if (console_ours(apps))
                printf("\"%s\"", eos_console_hash_hex());
            else
                printf("null");
        }
    } else {
        printf("null");
    }
    printf("}\n");
}

/* --evidence FILE: bare evidence, no certificate around it. */
static int verify_evidence_file(const char *path, const uint8_t *expect_rd,
                                const eos_ratls_verify_opts *o, int json)
{
    uint8_t *ev = NULL;
    size_t cap = 0;
    eos_ratls_verify_result r;
    eos_diag d;
    eos_diag_init(&d);
    int n = read_file(path, &ev, &cap);
    if (n < 0) {
        fprintf(stderr, "verify: cannot read --evidence %s\n", path);
        return 2;
    }
    int rc = eos_ratls_verify_evidence(ev, (size_t)n, expect_rd, o, &r, &d);
    eos_free(ev, cap);
    if (json) {
        print_json(&r, NULL, rc, &d);
    } else {
        printf("enclave-os verify --evidence %s\n", path);
        if (r.kind != EOS_TEE_KIND_UNKNOWN) {
            printf("  %-15s %s%s\n", "tee", eos_tee_kind_name(r.kind),
                   r.simulated ? " (SIMULATED: no hardware protection)" : "");
            hex_line("measurement", r.measurement, r.measurement_size);
            hex_line("report data", r.report_data, 64);
            printf("  %-15s %s\n", "quote sig", signature_text(&r));
            if (r.tcb_status != EOS_RATLS_TCB_UNKNOWN)
                printf("  %-15s %s (%s)\n", "tcb", eos_ratls_tcb_status_name(r.tcb_status),
                       r.tcb_detail);
        }
        if (rc == 0)
            printf("RESULT: PASS\n");
        else
            printf("RESULT: FAIL at step \"%s\": %s\n", eos_ratls_step_name(r.failed_step),
                   d.message[0] ? d.message : eos_strerror(rc));
    }
    return rc == 0 ? 0 : 1;
}

static int run(int argc, char **argv)
{
    eos_ratls_verify_opts o;
    eos_diag d;
    static eos_ratls_expect_code_hash expect[MAX_EXPECT];
    uint8_t measurement[64], root[32], nonce[32], *manifest = NULL;
    size_t msize = 0, rsize = 0, manifest_cap = 0;
    const char *target = NULL, *evidence_file = NULL;
    uint8_t report_data[64], *expect_rd = NULL;
    int json = 0, status = 2, rc;
    memset(&o, 0, sizeof o);
    eos_diag_init(&d);
    /* A server that hangs up mid-request must give a failed check, not a
     * process killed by SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--allow-simulated") == 0) {
            o.allow_simulated = 1;
        } else if (strcmp(a, "--allow-debug") == 0) {
            o.allow_debug = 1;
        } else if (strcmp(a, "--challenge") == 0) {
            if (RAND_bytes(nonce, sizeof nonce) != 1)
                goto out;
            o.nonce = nonce;
            o.nonce_size = sizeof nonce;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--require-manifest") == 0) {
            o.require_manifest = 1;
        } else if (takes_value(a) && !v) {
            fprintf(stderr, "verify: %s needs a value\n", a);
            goto out;
        } else if (strcmp(a, "--ca") == 0) {
            o.ca_file = argv[++i];
        } else if (strcmp(a, "--snp-vcek") == 0) {
            o.snp_vcek_file = argv[++i];
        } else if (strcmp(a, "--snp-ca") == 0) {
            o.snp_ca_file = argv[++i];
        } else if (strcmp(a, "--sni") == 0) {
            o.server_name = argv[++i];
        } else if (strcmp(a, "--sgx-root-ca") == 0) {
            o.sgx_root_ca_file = argv[++i];
        } else if ((rc = eos_ratls_verify_option(&o, a, v, &d)) != 0) {
            if (rc < 0) {
                fprintf(stderr, "verify: %s\n", d.message);
                goto out;
            }
            i++;
        } else if (strcmp(a, "--evidence") == 0) {
            evidence_file = argv[++i];
        } else if (strcmp(a, "--expect-report-data") == 0) {
            size_t n = 0;
            if (parse_hex(argv[++i], report_data, 64, &n) != 0 || n != 64) {
                fprintf(stderr, "verify: --expect-report-data takes 128 hex digits\n");
                goto out;
            }
            expect_rd = report_data;
        } else if (strcmp(a, "--expect-measurement") == 0) {
            if (parse_hex(argv[++i], measurement, 64, &msize) != 0) {
                fprintf(stderr, "verify: --expect-measurement takes hex (up to 64 bytes)\n");
                goto out;
            }
            o.expect_measurement = measurement;
            o.expect_measurement_size = msize;
        } else if (strcmp(a, "--expect-root") == 0) {
            if (parse_hex(argv[++i], root, 32, &rsize) != 0 || rsize != 32) {
                fprintf(stderr, "verify: --expect-root takes 64 hex digits\n");
                goto out;
            }
            o.expect_root = root;
        } else if (strcmp(a, "--expect-code-hash") == 0) {
            char *eq = strchr(argv[++i], '=');
            size_t hs = 0;
            if (!eq || eq == argv[i] || o.expect_code_hash_count == MAX_EXPECT ||
                parse_hex(eq + 1, expect[o.expect_code_hash_count].hash, 32, &hs) != 0 ||
                hs != 32) {
                fprintf(stderr, "verify: --expect-code-hash takes NAME=<64 hex digits>\n");
                goto out;
            }
            *eq = '\0';
            expect[o.expect_code_hash_count++].name = argv[i];
            o.expect_code_hashes = expect;
        } else if (strcmp(a, "--manifest") == 0) {
            int n = read_file(argv[++i], &manifest, &manifest_cap);
            if (n < 0) {
                fprintf(stderr, "verify: cannot read --manifest %s\n", argv[i]);
                goto out;
            }
            size_t j = 0;
            while (j < (size_t)n && (manifest[j] == ' ' || manifest[j] == '\n'))
                j++;
            if (j < (size_t)n && manifest[j] == '{') {
                uint8_t *bin = NULL;
                size_t bin_size = 0;
                if (eos_ratls_manifest_from_json((const char *)manifest, (size_t)n, &bin, &bin_size,
                                                 &d) != 0) {
                    fprintf(stderr, "verify: --manifest %s: %s\n", argv[i], d.message);
                    goto out;
                }
                eos_free(manifest, manifest_cap);
                manifest = bin;
                manifest_cap = bin_size;
                n = (int)bin_size;
            }
            o.manifest = manifest;
            o.manifest_size = (size_t)n;
        } else if (a[0] == '-') {
            fprintf(stderr, "verify: unknown option %s\n", a);
            usage(stderr);
            goto out;
        } else if (!target) {
            target = a;
        } else {
            fprintf(stderr, "verify: more than one HOST:PORT\n");
            goto out;
        }
    }
    if (evidence_file && !target) {
        status = verify_evidence_file(evidence_file, expect_rd, &o, json);
        goto out;
    }
    if (!target || !strchr(target, ':')) {
        usage(stderr);
        goto out;
    }
    eos_client_verify_result v;
    rc = eos_client_verify(target, &o, &v, &d);
    if (rc == EOS_EINVAL && !v.detail) {
        fprintf(stderr, "verify: %s\n", d.message);
        usage(stderr);
        goto out;
    }
    if (v.detail) {
        if (json)
            print_json(v.detail, &v, rc, &d);
        else
            print_human(target, &o, &v, rc, &d);
        status = rc == 0 ? 0 : 1;
    } else {
        fprintf(stderr, "verify: %s\n", d.message[0] ? d.message : eos_strerror(rc));
        status = 1;
    }
    eos_client_verify_result_free(&v);
out:
    eos_free(manifest, manifest_cap);
    return status;
}
