/* What the management commands (load, unload, list, call) share: the
 * connection options, attestation of the server before anything is sent
 * (the ratls verifier on the presented chain), one framed Data round trip
 * with progress for large uploads, and printing the answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <yajl/yajl_tree.h>

#include "cli.h"
#include "eos/client.h"
#include "eos/ratls.h"

int eos_cli__conn_option(eos_cli_conn *o, int opt, const char *arg)
{
    switch (opt) {
    case EOS_CLI_O_SERVER:
        o->server = arg;
        return 1;
    case EOS_CLI_O_TOKEN:
        o->token = arg;
        return 1;
    case EOS_CLI_O_INSECURE:
        o->insecure = 1;
        return 1;
    case EOS_CLI_O_ALLOW_SIM:
        o->allow_simulated = 1;
        return 1;
    case EOS_CLI_O_CA:
        o->ca_file = arg;
        return 1;
    case EOS_CLI_O_JSON:
        o->json = 1;
        return 1;
    case EOS_CLI_O_TIMEOUT:
        o->timeout_ms = (unsigned)atoi(arg);
        return 1;
    default:
        return 0;
    }
}

static int verify_peer(void *ud, SSL *ssl, eos_diag *d)
{
    eos_cli_conn *o = ud;
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
    int n = chain ? sk_X509_num(chain) : 0;
    if (n <= 0)
        return eos_diag_set(d, EOS_EVERIFY, "verify", -1, "the server sent no certificate");
    if (n > 8)
        n = 8;
    uint8_t *der[8] = {0};
    size_t size[8] = {0};
    int rc = 0;
    for (int i = 0; i < n; i++) {
        int len = i2d_X509(sk_X509_value(chain, i), &der[i]);
        if (len <= 0) {
            rc = eos_diag_set(d, EOS_EVERIFY, "verify", -1, "cannot encode the certificate");
            goto out;
        }
        size[i] = (size_t)len;
    }
    eos_ratls_verify_opts vo;
    memset(&vo, 0, sizeof vo);
    vo.allow_simulated = o->allow_simulated;
    vo.ca_file = o->ca_file;
    eos_ratls_verify_result res;
    memset(&res, 0, sizeof res);
    rc = eos_ratls_verify_chain((const uint8_t *const *)der, size, (size_t)n, &vo, &res, d);
    if (rc < 0 && res.failed_step == EOS_RATLS_STEP_SIMULATED)
        eos_diag_set(d, rc, "verify", -1,
                     "the server's attestation is simulated (no TEE); pass --allow-simulated "
                     "to send to it anyway");
out:
    for (int i = 0; i < n; i++)
        OPENSSL_free(der[i]);
    return rc;
}

int eos_cli__connect(eos_cli_conn *o, eos_client **out)
{
    eos_client_config cfg;
    eos_client_config_init(&cfg);
    cfg.timeout_ms = o->timeout_ms ? o->timeout_ms : 120000;
    if (!o->insecure) {
        cfg.verify = verify_peer;
        cfg.verify_ud = o;
    }
    eos_diag d;
    eos_diag_init(&d);
    int rc = eos_client_connect(&cfg, o->server ? o->server : "127.0.0.1:8443", out, &d);
    if (rc < 0) {
        fprintf(stderr, "enclave-os: cannot connect to %s: %s\n",
                o->server ? o->server : "127.0.0.1:8443",
                d.message[0] ? d.message : eos_strerror(rc));
        return -1;
    }
    return 0;
}

int eos_cli__run(eos_cli_conn *o, eos_cli_call_fn fn, void *ud)
{
    eos_client *cl = NULL;
    if (eos_cli__connect(o, &cl) < 0)
        return EOS_CLI_EXIT_FAIL;
    eos_diag d;
    eos_diag_init(&d);
    char *doc = NULL;
    size_t size = 0;
    int rc = fn(cl, ud, &doc, &size, &d);
    eos_client_close(cl);
    if (rc < 0) {
        fprintf(stderr, "enclave-os: %s\n", d.message[0] ? d.message : eos_strerror(rc));
        return EOS_CLI_EXIT_FAIL;
    }
    rc = eos_cli__print_response(o, doc);
    eos_client_doc_free(doc, size);
    return rc;
}

/* Appends a JSON string literal of s to buf. */
void eos_cli__json_str(eos_cli_buf *b, const char *s)
{
    eos_cli__buf_add(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            eos_cli__buf_add(b, esc, 2);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            eos_cli__buf_add(b, esc, 6);
        } else {
            eos_cli__buf_add(b, (const char *)p, 1);
        }
    }
    eos_cli__buf_add(b, "\"", 1);
}

void eos_cli__buf_add(eos_cli_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *nb = realloc(b->p, cap);
        if (!nb) {
            b->failed = 1;
            return;
        }
        b->p = nb;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void eos_cli__buf_addz(eos_cli_buf *b, const char *s)
{
    eos_cli__buf_add(b, s, strlen(s));
}

static const char *field(yajl_val v, const char *key)
{
    const char *path[] = {key, NULL};
    yajl_val f = yajl_tree_get(v, path, yajl_t_any);
    if (!f)
        return "";
    if (YAJL_IS_STRING(f))
        return YAJL_GET_STRING(f);
    if (YAJL_IS_NUMBER(f))
        return f->u.number.r;
    return "-";
}

/* Prints "  label  a, b, c" for the array member key of a ("-" when empty). */
static void print_list(yajl_val a, const char *label, const char *key)
{
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(a, path, yajl_t_array);
    printf("  %-10s ", label);
    if (!v || v->u.array.len == 0)
        printf("-");
    for (size_t i = 0; v && i < v->u.array.len; i++) {
        yajl_val e = v->u.array.values[i];
        printf("%s%s", i ? ", " : "", YAJL_IS_STRING(e) ? YAJL_GET_STRING(e) : "?");
    }
    printf("\n");
}

/* The provenance uploaded with an app (a JSON text), in one or two lines:
 * what it claims, and whether its output hash is the app's code hash. */
static void print_provenance(yajl_val a)
{
    const char *text = field(a, "provenance");
    if (!text[0])
        return;
    char err[64];
    yajl_val p = yajl_tree_parse(text, err, sizeof err);
    const char *tree[] = {"source", "tree_sha256", NULL}, *out[] = {"output", "sha256", NULL};
    const char *lang[] = {"language", NULL}, *epoch[] = {"source_date_epoch", NULL};
    yajl_val t = p ? yajl_tree_get(p, tree, yajl_t_string) : NULL;
    yajl_val o = p ? yajl_tree_get(p, out, yajl_t_string) : NULL;
    yajl_val l = p ? yajl_tree_get(p, lang, yajl_t_string) : NULL;
    yajl_val e = p ? yajl_tree_get(p, epoch, yajl_t_number) : NULL;
    if (!t || !o) {
        printf("  %-10s (not an enclave-os provenance file)\n", "provenance");
    } else {
        const char *sum = YAJL_GET_STRING(o);
        printf("  %-10s %s source, tree sha256 %s, SOURCE_DATE_EPOCH %s\n", "provenance",
               l ? YAJL_GET_STRING(l) : "?", YAJL_GET_STRING(t), e ? YAJL_GET_NUMBER(e) : "?");
        printf("  %-10s output sha256 %s (%s)\n", "", sum,
               strcmp(sum, field(a, "code_hash")) == 0 ? "the code hash"
                                                       : "differs from the code hash");
    }
    if (p)
        yajl_tree_free(p);
}

/* One app: its line, then the full code hash, provenance, exports and imports. */
static void print_app(yajl_val a)
{
    const char *host = field(a, "hostname");
    printf("%-20s %-24s %-24s %10s\n", field(a, "name"), field(a, "route"),
           host[0] && strcmp(host, "-") ? host : "-", field(a, "size"));
    printf("  %-10s %s\n", "code hash", field(a, "code_hash"));
    print_provenance(a);
    print_list(a, "outbound", "allow_outbound");
    const char *compile = field(a, "compile");
    if (!field(a, "tier")[0])
        ; /* a server without tiers */
    else if (strcmp(compile, "ready") == 0)
        printf("  %-10s %s (%s in %s ms)\n", "tier", field(a, "tier"),
               strcmp(field(a, "compiled_from"), "cache") == 0 ? "from cache" : "compiled",
               field(a, "compile_ms"));
    else
        printf("  %-10s %s (compile: %s)\n", "tier", field(a, "tier"), compile);
    print_list(a, "exports", "exports");
    print_list(a, "imports", "imports");
}

/* Human renderings of the usual answers; 0 when resp is none of them. */
static int print_known(const char *resp)
{
    char err[64];
    yajl_val root = yajl_tree_parse(resp, err, sizeof err);
    if (!root)
        return 0;
    const char *status = field(root, "status");
    const char *apath[] = {"apps", NULL};
    const char *ppath[] = {"app", NULL};
    int done = 1;
    if (strcmp(status, "apps") == 0) {
        yajl_val apps = yajl_tree_get(root, apath, yajl_t_array);
        printf("%-20s %-24s %-24s %10s\n", "NAME", "ROUTE", "HOSTNAME", "SIZE");
        for (size_t i = 0; apps && i < apps->u.array.len; i++)
            print_app(apps->u.array.values[i]);
        if (!apps || apps->u.array.len == 0)
            printf("(no apps loaded)\n");
    } else if (strcmp(status, "loaded") == 0) {
        yajl_val app = yajl_tree_get(root, ppath, yajl_t_object);
        printf("loaded %s at %s (%s bytes)\n  code hash    %s\n  merkle root  %s\n",
               field(app, "name"), field(app, "route"), field(app, "size"), field(app, "code_hash"),
               field(root, "merkle_root"));
    } else if (strcmp(status, "unloaded") == 0) {
        printf("unloaded %s\n  merkle root  %s\n", field(root, "name"), field(root, "merkle_root"));
    } else if (strcmp(status, "ok") == 0 && strstr(resp, "\"returns\":") &&
               strstr(resp, ",\"fuel_consumed\":")) {
        /* The results as the server wrote them (exact numbers and strings). */
        const char *r = strstr(resp, "\"returns\":") + 10;
        const char *e = strstr(resp, ",\"fuel_consumed\":");
        printf("%.*s\n  (fuel consumed: %s)\n", (int)(e - r), r, field(root, "fuel_consumed"));
    } else {
        done = 0;
    }
    yajl_tree_free(root);
    return done;
}

/* Prints a response: raw JSON with --json, else a short human summary.
 * Returns the exit status. */
int eos_cli__print_response(const eos_cli_conn *o, const char *resp)
{
    int error = strncmp(resp, "{\"status\":\"error\"", 17) == 0;
    if (o->json) {
        printf("%s\n", resp);
        return error ? EOS_CLI_EXIT_FAIL : EOS_CLI_EXIT_OK;
    }
    if (error) {
        const char *m = strstr(resp, "\"message\":\"");
        size_t n = 0;
        if (m) {
            m += 11;
            while (m[n] && !(m[n] == '"' && (n == 0 || m[n - 1] != '\\')))
                n++;
        }
        fputs("enclave-os: refused: ", stderr);
        const char *msg = m ? m : resp;
        size_t len = m ? n : strlen(resp);
        for (size_t k = 0; k < len; k++) {
            /* Undo the JSON escapes of quotes and backslashes for the reader. */
            if (msg[k] == '\\' && k + 1 < len && (msg[k + 1] == '"' || msg[k + 1] == '\\'))
                k++;
            fputc(msg[k], stderr);
        }
        fputc('\n', stderr);
        return EOS_CLI_EXIT_FAIL;
    }
    if (print_known(resp))
        return EOS_CLI_EXIT_OK;
    /* Anything else: the JSON, indented. */
    const char *p = resp;
    int depth = 0;
    for (; *p; p++) {
        if (*p == '{' || *p == '[') {
            depth++;
            putchar(*p);
            if (*p == '{')
                printf("\n%*s", depth * 2, "");
        } else if (*p == '}' || *p == ']') {
            depth--;
            if (*p == '}')
                printf("\n%*s", depth * 2, "");
            putchar(*p);
        } else if (*p == ',') {
            printf(",\n%*s", depth * 2, "");
        } else if (*p == '"') {
            const char *q = p + 1;
            while (*q && *q != '"')
                q += *q == '\\' && q[1] ? 2 : 1;
            fwrite(p, 1, (size_t)(q - p) + (*q ? 1 : 0), stdout);
            p = *q ? q : q - 1;
        } else if (*p == ':') {
            printf(": ");
        } else {
            putchar(*p);
        }
    }
    putchar('\n');
    return EOS_CLI_EXIT_OK;
}
