/* Apps replicated through a store shared by several nodes (PostgreSQL): a
 * load, replacement or unload on any node writes the app's record and bumps
 * "apps/version" in the "sys" namespace in one transaction, then announces
 * it (NOTIFY). Every node's follower thread wakes on announcements, polls the
 * version as the fallback, and brings its table to what the store holds.
 * Each node also keeps "node/<id>" up to date with its configuration root
 * and the version it applied: the cluster view of the well-known endpoint. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>
#include <openssl/sha.h>
#include <yajl/yajl_tree.h>

#include "internal.h"

#define POLL_MS     250 /* the fallback when no announcement comes */
#define BEAT_S      2
#define STALE_S     15
#define FORGET_S    3600
#define VERSION_KEY EOS_APPS__VERSION_KEY

struct eos_apps__cluster {
    pthread_t thread;
    atomic_int stop;
    int64_t applied;
    char id[17];
    time_t last_beat;
    time_t last_marks; /* when the store's high-water marks were last sealed */
    pthread_mutex_t doc_lock;
    char *doc; /* the cluster view, rebuilt by the thread */
    size_t doc_size;
};

static int64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return (int64_t)v;
}

static int64_t read_version(eos_apps *apps)
{
    uint8_t *v = NULL;
    size_t n = 0;
    int64_t out = 0;
    int rc = eos_kv_get(apps->sys_ns, VERSION_KEY, strlen(VERSION_KEY), &v, &n, NULL);
    if (rc == EOS_ENOTFOUND)
        return 0;
    if (rc != 0)
        return -1;
    if (n == 8)
        out = le64(v);
    eos_free(v, n);
    return out;
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

typedef struct names {
    char (*v)[80];
    size_t n, cap;
    int failed;
} names;

static void note_name(eos_apps *apps, const char *name, void *ctx)
{
    names *ns = ctx;
    (void)apps;
    if (ns->n == ns->cap) {
        size_t c = ns->cap ? 2 * ns->cap : 16;
        char(*v)[80] = eos_realloc(ns->v, ns->cap * sizeof *v, c * sizeof *v);
        if (!v) {
            ns->failed = 1;
            return;
        }
        ns->v = v;
        ns->cap = c;
    }
    snprintf(ns->v[ns->n++], 80, "%s", name);
}

/* Brings app name in line with its stored record. */
static void sync_one(eos_apps *apps, const char *name)
{
    eos_apps_app *run = eos_apps__get(apps, name);
    eos_apps__stored s;
    eos_diag d;
    eos_diag_init(&d);
    int rc = eos_apps__stored_read(apps, name, &s, &d);
    if (rc < 0) {
        EOS_WARN("cluster", "app '%s' in the store cannot be read: %s", name, d.message);
        goto out;
    }
    uint8_t hash[SHA256_DIGEST_LENGTH];
    SHA256(s.args.bytes, s.args.size, hash);
    if (run && memcmp(run->code_hash, hash, sizeof hash) == 0 &&
        same_str(run->route, s.args.route) && same_str(run->hostname, s.args.hostname) &&
        same_str(run->env_json, s.args.env_json) && run->max_fuel == s.args.max_fuel &&
        run->max_memory_mb == s.args.max_memory_mb)
        goto out;            /* already as stored */
    s.items[1].value = NULL; /* the bytes move to the app */
    eos_apps_app *a = NULL;
    rc = eos_apps__app_create(apps, &s.args, &a, &d);
    if (rc == 0) {
        /* It is in the store already: installing must not write it again. */
        eos_free(a->bytes, a->size);
        a->bytes = NULL;
        rc = eos_apps__install(apps, a, &d);
    }
    eos_apps_app_unref(a);
    if (rc < 0)
        EOS_WARN("cluster", "app '%s' from the store cannot be loaded here: %s", name, d.message);
    else
        EOS_INFO("cluster", "app '%s' %s as the cluster has it", name, run ? "replaced" : "loaded");
out:
    eos_apps__stored_free(&s);
    eos_apps_app_unref(run);
}

/* Applies the store's table of apps: loads and replaces what differs,
 * unloads what the store no longer holds. 0, or -1 to try again later. */
static int reconcile(eos_apps *apps)
{
    names ns = {0};
    int rc = eos_apps__stored_each(apps, note_name, &ns, NULL);
    if (rc < 0 || ns.failed) {
        eos_free(ns.v, ns.cap * sizeof *ns.v);
        return -1;
    }
    for (size_t i = 0; i < ns.n; i++)
        sync_one(apps, ns.v[i]);
    eos_apps_app **v = NULL;
    size_t n = 0;
    if (eos_apps__snapshot(apps, &v, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            int kept = 0;
            for (size_t j = 0; j < ns.n && !kept; j++)
                kept = strcmp(v[i]->name, ns.v[j]) == 0;
            eos_diag d;
            eos_diag_init(&d);
            if (!kept && eos_apps__remove(apps, v[i]->name, &d) == 0)
                EOS_INFO("cluster", "app '%s' unloaded: the cluster no longer has it", v[i]->name);
        }
        eos_apps__snapshot_free(v, n);
    }
    eos_free(ns.v, ns.cap * sizeof *ns.v);
    return 0;
}

static void gen_str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* One node's record, as the cluster view shows it. Returns its age in
 * seconds (a large one for a record that cannot be read). */
static long long gen_node(yajl_gen g, const uint8_t *v, size_t n, time_t now)
{
    long long age = 1LL << 40;
    char text[512], err[64];
    snprintf(text, sizeof text, "%.*s", (int)n, (const char *)v);
    yajl_val doc = yajl_tree_parse(text, err, sizeof err);
    const char *pn[] = {"node", NULL}, *pr[] = {"root", NULL}, *pv[] = {"version", NULL},
               *pa[] = {"at", NULL};
    yajl_val vn = doc ? yajl_tree_get(doc, pn, yajl_t_string) : NULL;
    yajl_val vr = doc ? yajl_tree_get(doc, pr, yajl_t_string) : NULL;
    yajl_val vv = doc ? yajl_tree_get(doc, pv, yajl_t_number) : NULL;
    yajl_val va = doc ? yajl_tree_get(doc, pa, yajl_t_number) : NULL;
    if (va && YAJL_IS_INTEGER(va))
        age = (long long)now - YAJL_GET_INTEGER(va);
    if (vn && vr && vv && va && YAJL_IS_INTEGER(va) && YAJL_IS_INTEGER(vv) && age <= STALE_S) {
        yajl_gen_map_open(g);
        gen_str(g, "node");
        gen_str(g, YAJL_GET_STRING(vn));
        gen_str(g, "root");
        gen_str(g, YAJL_GET_STRING(vr));
        gen_str(g, "version");
        yajl_gen_integer(g, YAJL_GET_INTEGER(vv));
        gen_str(g, "seen_seconds_ago");
        yajl_gen_integer(g, (long long)(now - YAJL_GET_INTEGER(va)));
        yajl_gen_map_close(g);
    }
    if (doc)
        yajl_tree_free(doc);
    return age;
}

/* Rebuilds the cluster view from every node's record (read here, on the
 * follower thread, so that the endpoint never waits on the database). */
static void rebuild_doc(eos_apps *apps, eos_apps__cluster *c, int64_t version)
{
    int oom = 0;
    yajl_gen g = eos_proto_json_gen_new(&oom);
    if (!g)
        return;
    time_t now = time(NULL);
    yajl_gen_map_open(g);
    gen_str(g, "status");
    gen_str(g, "cluster");
    gen_str(g, "node");
    gen_str(g, c->id);
    gen_str(g, "version");
    yajl_gen_integer(g, (long long)version);
    gen_str(g, "nodes");
    yajl_gen_array_open(g);
    char cursor[EOS_KV_CURSOR_SIZE] = "";
    for (;;) {
        eos_kv_list_page page;
        memset(&page, 0, sizeof page);
        if (eos_kv_list(apps->sys_ns, "node/", 5, cursor, 0, &page, NULL) != 0)
            break;
        for (size_t i = 0; i < page.count; i++) {
            uint8_t *v = NULL;
            size_t n = 0;
            if (eos_kv_get(apps->sys_ns, page.keys[i], page.key_sizes[i], &v, &n, NULL) == 0) {
                /* A node that died without removing its record: gone after
                 * an hour. */
                if (gen_node(g, v, n, now) > FORGET_S)
                    eos_kv_delete(apps->sys_ns, page.keys[i], page.key_sizes[i], NULL);
                eos_free(v, n);
            }
        }
        snprintf(cursor, sizeof cursor, "%s", page.cursor);
        eos_kv_list_free(&page);
        if (!cursor[0])
            break;
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    const unsigned char *buf;
    size_t len;
    if (!oom && yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
        char *s = eos_malloc(len + 1);
        if (s) {
            memcpy(s, buf, len);
            s[len] = 0;
            pthread_mutex_lock(&c->doc_lock);
            eos_free(c->doc, c->doc ? c->doc_size + 1 : 0);
            c->doc = s;
            c->doc_size = len;
            pthread_mutex_unlock(&c->doc_lock);
        }
    }
    yajl_gen_free(g);
}

/* Records this node's root and applied version, then refreshes the view. */
static void beat(eos_apps *apps, eos_apps__cluster *c, int64_t version)
{
    uint8_t root[32] = {0};
    char hex[65], doc[256], key[32];
    if (apps->ratls)
        eos_ratls_server_merkle_root(apps->ratls, root);
    eos_hex_encode(root, sizeof root, hex);
    int n =
        snprintf(doc, sizeof doc, "{\"node\":\"%s\",\"root\":\"%s\",\"version\":%lld,\"at\":%lld}",
                 c->id, hex, (long long)c->applied, (long long)time(NULL));
    snprintf(key, sizeof key, "node/%s", c->id);
    if (n > 0 && (size_t)n < sizeof doc)
        eos_kv_set(apps->sys_ns, key, strlen(key), (const uint8_t *)doc, (size_t)n, NULL);
    c->last_beat = time(NULL);
    rebuild_doc(apps, c, version);
}

static void *follow(void *arg)
{
    eos_apps *apps = arg;
    eos_apps__cluster *c = apps->cluster;
    while (!atomic_load(&c->stop)) {
        int64_t v = read_version(apps);
        if (v >= 0 && v != c->applied) {
            if (reconcile(apps) == 0) {
                c->applied = v;
                beat(apps, c, v);
            }
        } else if (time(NULL) - c->last_beat >= BEAT_S) {
            beat(apps, c, v);
        }
        if (time(NULL) != c->last_marks) {
            /* About once a second: a node killed loses at most that much of
             * what it saw (its marks are sealed again at a clean stop). */
            eos_diag d;
            eos_diag_init(&d);
            if (eos_kv_save_marks(apps->kv, 0, &d) != 0)
                EOS_WARN("cluster", "cannot seal the version high-water marks: %s", d.message);
            c->last_marks = time(NULL);
        }
        eos_kv_wait_announce(apps->kv, POLL_MS);
    }
    return NULL;
}

int eos_apps_cluster_start(eos_apps *apps, eos_diag *d)
{
    if (!apps->sys_ns || !apps->kv || !eos_kv_shared(apps->kv) || apps->cluster)
        return 0;
    eos_apps__cluster *c = eos_calloc(1, sizeof *c);
    uint8_t id[8];
    if (!c)
        return eos_diag_set(d, EOS_ENOMEM, "cluster", -1, "out of memory");
    if (RAND_bytes(id, sizeof id) != 1) {
        eos_free(c, sizeof *c);
        return eos_diag_set(d, EOS_ECRYPTO, "cluster", -1, "no random node id");
    }
    eos_hex_encode(id, sizeof id, c->id);
    c->applied = -1;
    pthread_mutex_init(&c->doc_lock, NULL);
    apps->cluster = c;
    apps->cluster_stop = eos_apps__cluster_stop;
    if (pthread_create(&c->thread, NULL, follow, apps) != 0) {
        apps->cluster = NULL;
        apps->cluster_stop = NULL;
        pthread_mutex_destroy(&c->doc_lock);
        eos_free(c, sizeof *c);
        return eos_diag_set(d, EOS_ESYS, "cluster", -1, "cannot start the cluster thread");
    }
    EOS_INFO("cluster", "node %s follows the apps of the shared store", c->id);
    return 0;
}

void eos_apps__cluster_stop(eos_apps *apps)
{
    eos_apps__cluster *c = apps->cluster;
    if (!c)
        return;
    atomic_store(&c->stop, 1);
    pthread_join(c->thread, NULL);
    char key[32];
    snprintf(key, sizeof key, "node/%s", c->id);
    eos_kv_delete(apps->sys_ns, key, strlen(key), NULL);
    apps->cluster = NULL;
    pthread_mutex_destroy(&c->doc_lock);
    eos_free(c->doc, c->doc ? c->doc_size + 1 : 0);
    eos_free(c, sizeof *c);
}

int eos_apps_cluster_doc(eos_apps *apps, char **out, size_t *out_size)
{
    eos_apps__cluster *c = apps->cluster;
    static const char none[] = "{\"status\":\"cluster\",\"nodes\":[]}";
    const char *src = none;
    size_t n = sizeof none - 1;
    if (c)
        pthread_mutex_lock(&c->doc_lock);
    if (c && c->doc) {
        src = c->doc;
        n = c->doc_size;
    }
    char *s = eos_malloc(n + 1);
    if (s) {
        memcpy(s, src, n);
        s[n] = 0;
    }
    if (c)
        pthread_mutex_unlock(&c->doc_lock);
    if (!s)
        return EOS_ENOMEM;
    *out = s;
    *out_size = n;
    return 0;
}
