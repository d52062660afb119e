/* `enclave-os secret put|delete|list APP [KEY]`: an app's secrets, sent only
 * to a server whose attestation this client has verified (never with
 * --insecure). The value is read from stdin or --file, never from the
 * command line, and the salted commitment the server answers is checked
 * here against the value before it is reported. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cli.h"
#include "eos/client.h"
#include "eos/ratls.h"

#define SECRET_MAX (64 * 1024)

static int run(int argc, char **argv);

const eos_cli_command eos_cli_secret = {
    "secret",
    "set, delete or list an app's secrets (over verified RA-TLS only)",
    "usage: enclave-os secret put APP KEY [--file FILE] [options]\n"
    "       enclave-os secret delete APP KEY [options]\n"
    "       enclave-os secret list APP [options]\n\n"
    "put reads the value from stdin (one trailing newline removed) or from FILE\n"
    "(as it is), at most 64 KiB, and sends it only after verifying the server's\n"
    "attestation. The app reads it with wasi:config/store get(\"secret.KEY\").\n"
    "The manifest shows a salted commitment per secret name, never the value;\n"
    "put prints the salt and checks that the commitment matches the value.\n"
    "list prints names and commitments only.\n\n"
    "Options:\n"
    "  --file FILE             read the value from FILE instead of stdin\n" EOS_CLI_CONN_HELP
    "\n"
    "Exit status: 0 success, 1 refused or failed, 2 usage error.\n",
    run,
};

static int read_value(const char *path, uint8_t **out, size_t *out_size)
{
    FILE *f = path ? fopen(path, "rb") : stdin;
    if (!f)
        return -1;
    uint8_t *buf = malloc(SECRET_MAX + 1);
    size_t n = buf ? fread(buf, 1, SECRET_MAX + 1, f) : 0;
    if (path)
        fclose(f);
    if (!buf || n > SECRET_MAX) {
        if (buf)
            OPENSSL_cleanse(buf, SECRET_MAX + 1);
        free(buf);
        errno = EFBIG;
        return -1;
    }
    if (!path && n && buf[n - 1] == '\n')
        n--;
    *out = buf;
    *out_size = n;
    return 0;
}

/* The hex string after "name":" in a flat JSON answer, into out. */
static int hex_field(const char *json, const char *name, uint8_t *out, size_t size)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", name);
    const char *p = strstr(json, pat);
    if (!p)
        return -1;
    p += strlen(pat);
    char hex[129];
    if (size * 2 >= sizeof hex || strlen(p) < size * 2 || p[size * 2] != '"')
        return -1;
    memcpy(hex, p, size * 2);
    hex[size * 2] = 0;
    return eos_hex_decode(hex, out, size);
}

/* One inner request on a verified connection; *out is freed with
 * eos_client_doc_free(*out, *out_size). -1 after printing why. */
static int roundtrip(eos_cli_conn *o, const char *inner, size_t size, char **out,
                     size_t *out_size)
{
    struct eos_client *cl = NULL;
    eos_diag d;
    eos_diag_init(&d);
    if (eos_cli__connect(o, &cl) != 0)
        return -1;
    int rc = eos_client_request(cl, inner, size, out, out_size, &d);
    eos_client_close(cl);
    if (rc != 0) {
        fprintf(stderr, "enclave-os secret: %s\n", d.message[0] ? d.message : eos_strerror(rc));
        return -1;
    }
    return 0;
}

static int put(eos_cli_conn *o, const char *app, const char *key, const char *file)
{
    const eos_cli_command *cmd = &eos_cli_secret;
    uint8_t *value = NULL;
    size_t size = 0;
    if (read_value(file, &value, &size) < 0) {
        fprintf(stderr, "enclave-os secret: cannot read the value from %s: %s\n",
                file ? file : "stdin", strerror(errno));
        return EOS_CLI_EXIT_FAIL;
    }
    (void)cmd;
    char *b64 = malloc(4 * (size / 3 + 1) + 1);
    eos_cli_buf b;
    memset(&b, 0, sizeof b);
    int rc = EOS_CLI_EXIT_FAIL;
    if (!b64)
        goto out;
    EVP_EncodeBlock((unsigned char *)b64, value, (int)size);
    eos_cli__buf_addz(&b, "{\"secret_put\":{\"app\":");
    eos_cli__json_str(&b, app);
    eos_cli__buf_addz(&b, ",\"key\":");
    eos_cli__json_str(&b, key);
    eos_cli__buf_addz(&b, ",\"value\":\"");
    eos_cli__buf_addz(&b, b64);
    eos_cli__buf_addz(&b, "\"}");
    if (o->token) {
        eos_cli__buf_addz(&b, ",\"auth\":");
        eos_cli__json_str(&b, o->token);
    }
    eos_cli__buf_addz(&b, "}");
    if (b.failed)
        goto out;
    char *resp = NULL;
    size_t rsize = 0;
    if (roundtrip(o, b.p, b.len, &resp, &rsize) != 0)
        goto out;
    uint8_t salt[32], got[32], want[32];
    if (strncmp(resp, "{\"status\":\"error\"", 17) != 0) {
        if (hex_field(resp, "salt", salt, 32) != 0 || hex_field(resp, "commitment", got, 32) != 0) {
            fprintf(stderr, "enclave-os secret: the server's answer lacks the salt and "
                            "commitment\n");
            eos_client_doc_free(resp, rsize);
            goto out;
        }
        eos_ratls_secret_commitment(app, key, salt, value, size, want);
        if (memcmp(got, want, 32) != 0) {
            fprintf(stderr, "enclave-os secret: the server committed to another value than the "
                            "one sent\n");
            eos_client_doc_free(resp, rsize);
            goto out;
        }
    }
    rc = eos_cli__print_response(o, resp);
    eos_client_doc_free(resp, rsize);
out:
    if (b.p) {
        OPENSSL_cleanse(b.p, b.len);
        free(b.p);
    }
    if (b64) {
        OPENSSL_cleanse(b64, strlen(b64));
        free(b64);
    }
    OPENSSL_cleanse(value, size);
    free(value);
    return rc;
}

static int simple(eos_cli_conn *o, const char *op, const char *app, const char *key)
{
    eos_cli_buf b;
    memset(&b, 0, sizeof b);
    eos_cli__buf_addz(&b, "{\"");
    eos_cli__buf_addz(&b, op);
    eos_cli__buf_addz(&b, "\":{\"app\":");
    eos_cli__json_str(&b, app);
    if (key) {
        eos_cli__buf_addz(&b, ",\"key\":");
        eos_cli__json_str(&b, key);
    }
    eos_cli__buf_addz(&b, "}");
    if (o->token) {
        eos_cli__buf_addz(&b, ",\"auth\":");
        eos_cli__json_str(&b, o->token);
    }
    eos_cli__buf_addz(&b, "}");
    int rc = EOS_CLI_EXIT_FAIL;
    char *resp = NULL;
    size_t rsize = 0;
    if (!b.failed && roundtrip(o, b.p, b.len, &resp, &rsize) == 0) {
        rc = eos_cli__print_response(o, resp);
        eos_client_doc_free(resp, rsize);
    }
    free(b.p);
    return rc;
}

static int run(int argc, char **argv)
{
    const eos_cli_command *cmd = &eos_cli_secret;
    enum { O_FILE = 256 };
    static const struct option opts[] = {
        {"file", required_argument, 0, O_FILE},
        EOS_CLI_CONN_LONGOPTS,
        {0, 0, 0, 0},
    };
    eos_cli_conn o;
    memset(&o, 0, sizeof o);
    const char *file = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":s:h", opts, NULL)) != -1) {
        if (c == 's')
            c = EOS_CLI_O_SERVER;
        if (eos_cli__conn_option(&o, c, optarg))
            continue;
        switch (c) {
        case O_FILE:
            file = optarg;
            break;
        default:
            return eos_cli__option_rest(cmd, c, argv);
        }
    }
    int n = argc - optind;
    const char *op = n > 0 ? argv[optind] : NULL;
    if (!op)
        return eos_cli__usage(cmd, "missing put, delete or list");
    /* A secret goes only to a server whose attestation was verified. */
    if (o.insecure)
        return eos_cli__usage(cmd, "secrets are never sent with --insecure: the server's "
                                   "attestation must be verified first");
    if (strcmp(op, "put") == 0 && n == 3)
        return put(&o, argv[optind + 1], argv[optind + 2], file);
    if (strcmp(op, "delete") == 0 && n == 3 && !file)
        return simple(&o, "secret_delete", argv[optind + 1], argv[optind + 2]);
    if (strcmp(op, "list") == 0 && n == 2 && !file)
        return simple(&o, "secret_list", argv[optind + 1], NULL);
    return eos_cli__usage(cmd, "expected put APP KEY, delete APP KEY or list APP");
}
