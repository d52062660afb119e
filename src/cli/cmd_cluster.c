/* `enclave-os list --cluster`: the cluster view of the node reached
 * (/.well-known/enclave-os/cluster), fetched over the same attested
 * connection the management commands use, and printed as a table of each
 * node's configuration root and applied version. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "cli.h"
#include "eos/client.h"

#define MAX_ANSWER (1u << 20)

/* GETs the cluster document over cl; its body in *out (free()). */
static int get_cluster(eos_client *cl, const char *host, char **out, eos_diag *d)
{
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET /.well-known/enclave-os/cluster HTTP/1.1\r\nHost: %s\r\n"
                     "Connection: close\r\n\r\n",
                     host);
    int rc = eos_client_send_raw(cl, (const uint8_t *)req, (size_t)n, d);
    if (rc < 0)
        return rc;
    char *buf = malloc(MAX_ANSWER + 1);
    size_t len = 0, got = 0;
    if (!buf)
        return eos_diag_set(d, EOS_ENOMEM, "cluster", -1, "out of memory");
    do {
        rc = eos_client_recv_raw(cl, (uint8_t *)buf + len, MAX_ANSWER - len, &got, d);
        len += got;
    } while (rc == 0 && got > 0 && len < MAX_ANSWER);
    buf[len] = 0;
    char *body = strstr(buf, "\r\n\r\n");
    if (rc == 0 && (!body || len < 12 || strncmp(buf, "HTTP/1.", 7) != 0))
        rc = eos_diag_set(d, EOS_EPROTO, "cluster", -1, "the server did not answer in HTTP");
    else if (rc == 0 && atoi(buf + 9) != 200)
        rc = eos_diag_set(d, EOS_EPROTO, "cluster", -1, "the server answered %.3s: %.200s", buf + 9,
                          body + 4);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    memmove(buf, body + 4, strlen(body + 4) + 1);
    *out = buf;
    return 0;
}

static const char *str_of(yajl_val o, const char *key)
{
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(o, path, yajl_t_string);
    return v ? YAJL_GET_STRING(v) : "?";
}

static long long int_of(yajl_val o, const char *key)
{
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(o, path, yajl_t_number);
    return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : -1;
}

/* The table; 0 when every node shows the same root and version. */
static int print_table(const char *doc)
{
    char err[256];
    yajl_val t = yajl_tree_parse(doc, err, sizeof err);
    const char *npath[] = {"nodes", NULL};
    yajl_val nodes = t ? yajl_tree_get(t, npath, yajl_t_array) : NULL;
    if (!nodes) {
        fprintf(stderr, "enclave-os: the cluster view is not what was expected: %.200s\n", doc);
        yajl_tree_free(t);
        return EOS_CLI_EXIT_FAIL;
    }
    printf("cluster version %lld, as seen by node %s\n", int_of(t, "version"), str_of(t, "node"));
    printf("%-18s %-8s %-64s %s\n", "NODE", "VERSION", "ROOT", "SEEN");
    size_t count = YAJL_GET_ARRAY(nodes)->len;
    int agree = 1;
    for (size_t i = 0; i < count; i++) {
        yajl_val e = YAJL_GET_ARRAY(nodes)->values[i];
        yajl_val first = YAJL_GET_ARRAY(nodes)->values[0];
        printf("%-18s %-8lld %-64s %llds ago\n", str_of(e, "node"), int_of(e, "version"),
               str_of(e, "root"), int_of(e, "seen_seconds_ago"));
        if (strcmp(str_of(e, "root"), str_of(first, "root")) != 0 ||
            int_of(e, "version") != int_of(first, "version"))
            agree = 0;
    }
    if (count == 0)
        printf("no node has recorded itself yet\n");
    else if (agree)
        printf("%zu node%s, same root and version\n", count, count == 1 ? "" : "s");
    else
        printf("%zu nodes, which do not all show the same root and version yet\n", count);
    yajl_tree_free(t);
    return EOS_CLI_EXIT_OK;
}

int eos_cli__list_cluster(eos_cli_conn *o)
{
    eos_client *cl = NULL;
    if (eos_cli__connect(o, &cl) < 0)
        return EOS_CLI_EXIT_FAIL;
    char host[256];
    snprintf(host, sizeof host, "%s", o->server ? o->server : "127.0.0.1:8443");
    eos_diag d;
    eos_diag_init(&d);
    char *doc = NULL;
    int rc = get_cluster(cl, host, &doc, &d);
    eos_client_close(cl);
    if (rc < 0) {
        fprintf(stderr, "enclave-os: cannot read the cluster view: %s\n",
                d.message[0] ? d.message : eos_strerror(rc));
        return EOS_CLI_EXIT_FAIL;
    }
    if (o->json) {
        printf("%s\n", doc);
        rc = EOS_CLI_EXIT_OK;
    } else {
        rc = print_table(doc);
    }
    free(doc);
    return rc;
}
