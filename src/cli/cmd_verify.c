/* `enclave-os verify HOST:PORT`: option parsing (SPEC 5.4), a fresh nonce
 * for --challenge, the checks (the ratls layer's eos_ratls_verify_connect),
 * and the report, human-readable or --json, with every app and its code
 * hash from the manifest once that was checked against the certificate's
 * root. The exit status is 0 when every check passed, 1 when one failed, 2
 * on a usage error. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <openssl/sha.h>
#include <yajl/yajl_tree.h>

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

/* The apps of a checked manifest. Its leaf "wasm.NAME.code_hash" holds the
 * SHA-256 of the app's code hash, so each code hash the server lists
 * (wasm_list) is shown only when it hashes to that leaf. */
typedef struct app_row {
    char name[64];
    char code_hash[65]; /* hex; "" when the server did not list one */
    int confirmed;      /* SHA-256(code hash) is the manifest's leaf */
    /* The outbound allow-list: the leaf wasm.NAME.outbound is SHA-256 of the
     * rules joined by '\n', so the rules the server lists are shown only
     * when they hash to it. */
    int has_outbound_leaf;
    int outbound_state; /* 0 none either side, 1 confirmed, -1 mismatch, 2 leaf, unlisted */
    char *outbound;     /* the listed rules joined by '\n' (malloc), or NULL */
} app_row;

typedef struct app_rows {
    app_row *v;
    size_t n;
    int mismatch; /* a listed code hash contradicts the manifest */
    /* The web console of the checked configuration: its leaf core.console is
     * SHA-256 of the console hash, so only a known hash (this build's) can be
     * named. */
    int has_console, console_ours;
    uint8_t console_leaf[32];
    /* core.outbound_ca: SHA-256 of the CA bundle apps' outgoing TLS trusts;
     * absent when the server uses the system's bundle. */
    int has_outbound_ca;
    uint8_t outbound_ca[32];
    int outbound_mismatch; /* listed rules contradict the manifest */
} app_rows;

static void free_rows(app_rows *r)
{
    for (size_t i = 0; r->v && i < r->n; i++)
        free(r->v[i].outbound);
    free(r->v);
}

/* The rules list_doc gives for name, joined by '\n' (malloc), or NULL. */
static char *listed_rules(yajl_val list, const char *name)
{
    const char *apath[] = {"apps", NULL}, *npath[] = {"name", NULL},
               *rpath[] = {"allow_outbound", NULL};
    yajl_val apps = list ? yajl_tree_get(list, apath, yajl_t_array) : NULL;
    for (size_t i = 0; apps && i < apps->u.array.len; i++) {
        yajl_val n = yajl_tree_get(apps->u.array.values[i], npath, yajl_t_string);
        const char *ns = n ? YAJL_GET_STRING(n) : NULL;
        if (!ns || strcmp(ns, name) != 0)
            continue;
        yajl_val rules = yajl_tree_get(apps->u.array.values[i], rpath, yajl_t_array);
        size_t len = 1;
        for (size_t k = 0; rules && k < rules->u.array.len; k++) {
            const char *t = YAJL_GET_STRING(rules->u.array.values[k]);
            len += (t ? strlen(t) : 0) + 1;
        }
        if (!rules || !rules->u.array.len)
            return NULL;
        char *out = malloc(len);
        size_t o = 0;
        for (size_t k = 0; out && k < rules->u.array.len; k++) {
            const char *t = YAJL_GET_STRING(rules->u.array.values[k]);
            if (k)
                out[o++] = '\n';
            if (t) {
                memcpy(out + o, t, strlen(t));
                o += strlen(t);
            }
        }
        if (out)
            out[o] = 0;
        return out;
    }
    return NULL;
}

/* Confirms row's listed rules against the manifest's wasm.NAME.outbound. */
static void check_outbound(const eos_ratls_manifest *m, yajl_val list, app_row *row)
{
    char leafname[128];
    int ln = snprintf(leafname, sizeof leafname, "wasm.%s.outbound", row->name);
    const uint8_t *leaf = NULL;
    for (size_t i = 0; ln > 0 && i < m->count; i++)
        if (m->entries[i].name_len == (size_t)ln &&
            memcmp(m->entries[i].name, leafname, (size_t)ln) == 0)
            leaf = m->entries[i].hash;
    row->has_outbound_leaf = leaf != NULL;
    row->outbound = listed_rules(list, row->name);
    if (!row->outbound) {
        row->outbound_state = leaf ? 2 : 0;
        return;
    }
    uint8_t h[32];
    SHA256((const uint8_t *)row->outbound, strlen(row->outbound), h);
    row->outbound_state = leaf && memcmp(h, leaf, 32) == 0 ? 1 : -1;
}

/* The code hash (64 hex digits) that list_doc gives for name, or NULL. */
static const char *listed_hash(yajl_val list, const char *name)
{
    const char *apath[] = {"apps", NULL}, *npath[] = {"name", NULL}, *hpath[] = {"code_hash", NULL};
    yajl_val apps = list ? yajl_tree_get(list, apath, yajl_t_array) : NULL;
    for (size_t i = 0; apps && i < apps->u.array.len; i++) {
        yajl_val n = yajl_tree_get(apps->u.array.values[i], npath, yajl_t_string);
        yajl_val h = yajl_tree_get(apps->u.array.values[i], hpath, yajl_t_string);
        const char *ns = n ? YAJL_GET_STRING(n) : NULL, *hs = h ? YAJL_GET_STRING(h) : NULL;
        if (ns && hs && strcmp(ns, name) == 0 && strlen(hs) == 64)
            return hs;
    }
    return NULL;
}

static int collect_apps(const eos_ratls_manifest *m, const char *list_json, app_rows *out)
{
    static const char pre[] = "wasm.", suf[] = ".code_hash";
    const size_t np = sizeof pre - 1, ns = sizeof suf - 1;
    char err[128];
    yajl_val list = list_json ? yajl_tree_parse(list_json, err, sizeof err) : NULL;
    memset(out, 0, sizeof *out);
    out->v = calloc(m->count ? m->count : 1, sizeof *out->v);
    if (!out->v) {
        yajl_tree_free(list);
        return -1;
    }
    for (size_t i = 0; i < m->count; i++) {
        const eos_ratls_manifest_entry *e = &m->entries[i];
        if (e->name_len <= np + ns || e->name_len - np - ns >= sizeof out->v[0].name ||
            memcmp(e->name, pre, np) != 0 || memcmp(e->name + e->name_len - ns, suf, ns) != 0)
            continue;
        app_row *row = &out->v[out->n++];
        memcpy(row->name, e->name + np, e->name_len - np - ns);
        const char *hex = listed_hash(list, row->name);
        uint8_t code[32], leaf[32];
        if (!hex || eos_hex_decode(hex, code, 32) != 0)
            continue;
        snprintf(row->code_hash, sizeof row->code_hash, "%s", hex);
        SHA256(code, 32, leaf);
        row->confirmed = memcmp(leaf, e->hash, 32) == 0;
        out->mismatch |= !row->confirmed;
    }
    for (size_t i = 0; i < out->n; i++) {
        check_outbound(m, list, &out->v[i]);
        out->outbound_mismatch |= out->v[i].outbound_state < 0;
    }
    yajl_tree_free(list);
    for (size_t i = 0; i < m->count; i++) {
        const eos_ratls_manifest_entry *e = &m->entries[i];
        if (e->name_len == 16 && memcmp(e->name, "core.outbound_ca", 16) == 0) {
            out->has_outbound_ca = 1;
            memcpy(out->outbound_ca, e->hash, 32);
        }
        if (e->name_len == 12 && memcmp(e->name, "core.console", 12) == 0) {
            uint8_t ours[32], leaf[32];
            eos_console_hash(ours);
            SHA256(ours, 32, leaf);
            memcpy(out->console_leaf, e->hash, 32);
            out->has_console = 1;
            out->console_ours = memcmp(leaf, e->hash, 32) == 0;
        }
    }
    return 0;
}

/* An app's outbound rules under its row, one per line. */
static void print_outbound(const app_row *a)
{
    if (a->outbound_state == 2) {
        printf("  %-15s   outbound: attested (wasm.%s.outbound), rules not listed by the "
               "server\n", "", a->name);
        return;
    }
    if (!a->outbound)
        return;
    const char *p = a->outbound;
    int first = 1;
    while (*p) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        printf("  %-15s   %s %.*s%s\n", "", first ? "outbound:" : "         ", n, p,
               !first             ? ""
               : a->outbound_state > 0 ? "  (ok: the manifest's wasm.NAME.outbound)"
                                       : "  MISMATCH: not the manifest's wasm.NAME.outbound");
        first = 0;
        p += n + (nl != NULL);
    }
}

static void print_human(const char *target, const eos_ratls_verify_opts *o,
                        const eos_ratls_verify_result *r, const app_rows *apps,
                        int rc, const eos_diag *d)
{
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
        if (r->has_app) {
            printf("  %-15s %s (route %s)\n", "app", r->app_name, r->app_route);
            hex_line("code hash", r->app_code_hash, 32);
        }
        if (apps) {
            if (apps->n == 0)
                printf("  %-15s none loaded\n", "apps");
            for (size_t i = 0; i < apps->n; i++) {
                const app_row *a = &apps->v[i];
                printf("  %-15s %-20s %s%s\n", i == 0 ? "apps" : "", a->name,
                       a->code_hash[0] ? a->code_hash : "(code hash not listed by the server)",
                       !a->code_hash[0] || a->confirmed ? "" : " MISMATCH: not the manifest's");
                print_outbound(a);
            }
        } else if (have_root) {
            printf("  %-15s not listed (no manifest was checked)\n", "apps");
        }
        if (apps && apps->has_outbound_ca) {
            char hex[65];
            eos_hex_encode(apps->outbound_ca, 32, hex);
            printf("  %-15s %s (SHA-256 of the CA bundle apps' outgoing TLS trusts)\n",
                   "outbound CA", hex);
        } else if (apps) {
            printf("  %-15s the system's bundle (core.outbound_ca is not set)\n", "outbound CA");
        }
        if (apps && apps->console_ours) {
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

static void print_json(const eos_ratls_verify_result *r, const app_rows *apps, int rc,
                       const eos_diag *d)
{
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
    /* Every app of the manifest checked against the certificate's root; null
     * when no manifest was checked. */
    printf(",\"apps\":");
    if (apps) {
        printf("[");
        for (size_t i = 0; i < apps->n; i++) {
            char text[6 * 64 + 3];
            json_string(text, apps->v[i].name, strlen(apps->v[i].name));
            printf("%s{\"name\":%s,\"code_hash\":", i ? "," : "", text);
            if (apps->v[i].code_hash[0])
                printf("\"%s\"", apps->v[i].code_hash);
            else
                printf("null");
            printf(",\"confirmed\":%s", apps->v[i].confirmed ? "true" : "false");
            /* "outbound": the listed rules and whether they hash to the leaf */
            if (apps->v[i].outbound || apps->v[i].has_outbound_leaf) {
                printf(",\"outbound\":{\"rules\":[");
                const char *p = apps->v[i].outbound ? apps->v[i].outbound : "";
                for (int k = 0; *p; k++) {
                    const char *nl = strchr(p, '\n');
                    size_t n = nl ? (size_t)(nl - p) : strlen(p);
                    char *rule = malloc(6 * n + 3);
                    if (rule) {
                        json_string(rule, p, n);
                        printf("%s%s", k ? "," : "", rule);
                        free(rule);
                    }
                    p += n + (nl != NULL);
                }
                printf("],\"confirmed\":%s}", apps->v[i].outbound_state > 0 ? "true" : "false");
            }
            printf("}");
        }
        printf("]");
        /* The console: its hash when it is this build's, else only its leaf. */
        if (apps->has_outbound_ca) {
            eos_hex_encode(apps->outbound_ca, 32, hex);
            printf(",\"outbound_ca\":\"%s\"", hex);
        }
        if (apps->has_console) {
            eos_hex_encode(apps->console_leaf, 32, hex);
            printf(",\"console_leaf\":\"%s\",\"console\":", hex);
            if (apps->console_ours)
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

/* Splits HOST:PORT (or [V6]:PORT) into host and port buffers. */
static int split_target(const char *t, char *host, size_t host_size, char *port, size_t port_size)
{
    const char *colon = strrchr(t, ':');
    if (!colon || !colon[1] || strlen(colon + 1) >= port_size)
        return -1;
    const char *h = t;
    size_t hn = (size_t)(colon - t);
    if (hn >= 2 && t[0] == '[' && t[hn - 1] == ']') {
        h++;
        hn -= 2;
    }
    if (hn == 0 || hn >= host_size)
        return -1;
    memcpy(host, h, hn);
    host[hn] = 0;
    strcpy(port, colon + 1);
    return 0;
}

/* Fetches the server's manifest over the framed protocol (config_manifest)
 * as a binary manifest; free *out with eos_free(*out, *out_size). The
 * connection needs no verification of its own: the manifest is only used
 * after eos_ratls_verify_connect() checked it against the verified
 * certificate's root. Returns 0, or -1 when the server gave none. */
static int fetch_manifest(const char *target, const char *sni, uint8_t **out, size_t *out_size,
                          char **out_list)
{
    static const char inner[] = "{\"config_manifest\":{}}";
    static const char list[] = "{\"wasm_list\":{}}";
    eos_client_config cfg;
    eos_client_config_init(&cfg);
    cfg.server_name = sni;
    eos_client *cl = NULL;
    eos_diag d;
    eos_diag_init(&d);
    const uint8_t *bytes = NULL;
    size_t size = 0;
    int rc = eos_client_connect(&cfg, target, &cl, &d);
    if (rc == 0)
        rc = eos_client_send_msg(cl, EOS_PROTO_MSG_DATA, (const uint8_t *)inner,
                                 sizeof inner - 1, &d);
    if (rc == 0)
        rc = eos_client_recv_msg(cl, &bytes, &size, &d);
    if (rc == EOS_PROTO_MSG_DATA)
        rc = eos_ratls_manifest_from_json((const char *)bytes, size, out, out_size, &d);
    else
        rc = -1;
    /* The apps' code hashes, to be confirmed against the manifest's leaves. */
    if (rc == 0 && eos_client_send_msg(cl, EOS_PROTO_MSG_DATA, (const uint8_t *)list,
                                       sizeof list - 1, &d) == 0 &&
        eos_client_recv_msg(cl, &bytes, &size, &d) == EOS_PROTO_MSG_DATA) {
        *out_list = malloc(size + 1);
        if (*out_list) {
            memcpy(*out_list, bytes, size);
            (*out_list)[size] = 0;
        }
    }
    eos_client_close(cl);
    return rc == 0 ? 0 : -1;
}

static int run(int argc, char **argv)
{
    eos_ratls_verify_opts o;
    eos_ratls_verify_result r;
    eos_diag d;
    static eos_ratls_expect_code_hash expect[MAX_EXPECT];
    uint8_t measurement[64], root[32], nonce[32], *manifest = NULL;
    size_t msize = 0, rsize = 0, manifest_cap = 0;
    const char *target = NULL, *evidence_file = NULL;
    uint8_t report_data[64], *expect_rd = NULL;
    char *list_json = NULL;
    char host[256], port[16];
    int json = 0, status = 2, rc;
    memset(&o, 0, sizeof o);
    memset(&r, 0, sizeof r);
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
    if (!target || split_target(target, host, sizeof host, port, sizeof port) != 0) {
        usage(stderr);
        goto out;
    }
    if (!o.manifest &&
        fetch_manifest(target, o.server_name, &manifest, &manifest_cap, &list_json) == 0) {
        o.manifest = manifest;
        o.manifest_size = manifest_cap;
    }
    rc = eos_ratls_verify_connect(host, port, &o, &r, &d);
    eos_ratls_manifest m;
    memset(&m, 0, sizeof m);
    eos_diag md;
    eos_diag_init(&md);
    app_rows apps;
    memset(&apps, 0, sizeof apps);
    int listed = r.manifest_checked &&
                 eos_ratls_manifest_parse(o.manifest, o.manifest_size, &m, &md) == 0 &&
                 collect_apps(&m, list_json, &apps) == 0;
    if (listed && apps.mismatch && rc == 0) {
        rc = EOS_EVERIFY;
        r.failed_step = EOS_RATLS_STEP_CODE_HASH;
        eos_diag_set(&d, EOS_EVERIFY, "code-hash", -1,
                     "the server lists a code hash that is not in its attested manifest");
    }
    if (listed && apps.outbound_mismatch && rc == 0) {
        rc = EOS_EVERIFY;
        r.failed_step = EOS_RATLS_STEP_MANIFEST;
        eos_diag_set(&d, EOS_EVERIFY, "manifest", -1,
                     "the server lists outbound rules that are not its attested "
                     "wasm.NAME.outbound leaf");
    }
    if (json)
        print_json(&r, listed ? &apps : NULL, rc, &d);
    else
        print_human(target, &o, &r, listed ? &apps : NULL, rc, &d);
    eos_ratls_manifest_free(&m);
    free_rows(&apps);
    status = rc == 0 ? 0 : 1;
out:
    free(list_json);
    eos_free(manifest, manifest_cap);
    return status;
}
