/* Joining a cluster: the data key goes to a joiner whose measurement is the
 * member's own, or one the member allows; a joiner with another
 * measurement is refused and told why; a joiner accepts only a member it
 * would itself allow; altered or malformed messages are refused. Two
 * simulated TEEs measure different files to differ in measurement. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eos/apps.h"
#include "eos/kv.h"
#include "eos/ratls.h"
#include "eos/tee.h"
#include "harness.h"

static char dir[] = "/tmp/eos-join-XXXXXX";

static eos_tee *sim(const char *binary)
{
    eos_tee *t = NULL;
    eos_tee_config c = {.kind = "sim", .data_dir = dir, .sim_binary = binary};
    EOS_CHECK_INT(eos_tee_open(&c, &t, NULL), 0);
    return t;
}

static eos_kv *store(eos_tee *tee, const char *sub)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    mkdir(path, 0700);
    eos_kv *kv = NULL;
    eos_kv_config c = {.data_dir = path, .tee = tee};
    EOS_CHECK_INT(eos_kv_backend_memory(&c.backend), 0);
    EOS_CHECK_INT(eos_kv_open(&c, &kv, NULL), 0);
    return kv;
}

/* One whole exchange; returns the grant's result, and 0 from accept when
 * that passes too (the key then equals the member's). */
static int exchange(eos_tee *member, eos_kv *kv, const eos_apps_join_policy *mpol, eos_tee *joiner,
                    const eos_apps_join_policy *jpol, int flip, eos_diag *d)
{
    eos_apps_join *j = NULL;
    uint8_t *req = NULL, *grant = NULL, key[32], want[32];
    size_t req_size = 0, grant_size = 0;
    EOS_CHECK_INT(eos_apps_join_request(joiner, &j, &req, &req_size, NULL), 0);
    int rc = eos_apps_join_grant(member, kv, NULL, mpol, req, req_size, &grant, &grant_size, d);
    if (rc == 0) {
        if (flip)
            grant[flip % grant_size] ^= 1;
        rc = eos_apps_join_accept(j, joiner, jpol, grant, grant_size, key, NULL, NULL, d);
        eos_kv_master_key(kv, want);
        if (rc == 0)
            EOS_CHECK(memcmp(key, want, 32) == 0);
    }
    eos_free(req, req_size);
    eos_free(grant, grant_size);
    eos_apps_join_free(j);
    return rc;
}

static void test_join(void)
{
    char other[300];
    snprintf(other, sizeof other, "%s/other-binary", dir);
    FILE *f = fopen(other, "wb");
    fputs("another build", f);
    fclose(f);
    eos_tee *a = sim(NULL), *a2 = sim(NULL), *b = sim(other);
    eos_kv *kv = store(a, "member");
    eos_diag d;
    /* Same measurement: released, and the joiner recovers the key. */
    eos_diag_init(&d);
    EOS_CHECK_INT(exchange(a, kv, NULL, a2, NULL, 0, &d), 0);
    /* Another measurement: refused, saying why. */
    eos_diag_init(&d);
    EOS_CHECK_INT(exchange(a, kv, NULL, b, NULL, 0, &d), EOS_EPERM);
    EOS_CHECK(strstr(d.message, "measurement") != NULL);
    /* The upgrade: the member allows the new measurement, and the joiner
     * (the new build) allows the old one. */
    uint8_t ma[64], mb[64];
    size_t na = 0, nb = 0;
    EOS_CHECK_INT(eos_tee_measurement(a, ma, &na), 0);
    EOS_CHECK_INT(eos_tee_measurement(b, mb, &nb), 0);
    const uint8_t *allow_b[] = {mb}, *allow_a[] = {ma};
    eos_apps_join_policy mpol = {.allowed = allow_b, .allowed_sizes = &nb, .allowed_count = 1};
    eos_apps_join_policy jpol = {.allowed = allow_a, .allowed_sizes = &na, .allowed_count = 1};
    eos_diag_init(&d);
    EOS_CHECK_INT(exchange(a, kv, &mpol, b, NULL, 0, &d), EOS_EPERM); /* joiner refuses */
    eos_diag_init(&d);
    EOS_CHECK_INT(exchange(a, kv, &mpol, b, &jpol, 0, &d), 0);
    /* Any bit of the grant flipped: refused. */
    for (int at = 8; at < 120; at += 7) {
        eos_diag_init(&d);
        EOS_CHECK(exchange(a, kv, NULL, a2, NULL, at, &d) != 0);
    }
    /* Malformed messages. */
    eos_apps_join_msg m;
    static const uint8_t junk[] = "EOSJOIN1 too short";
    EOS_CHECK_INT(eos_apps_join_parse(junk, sizeof junk, 0, &m, NULL), EOS_EMALFORMED);
    EOS_CHECK_INT(eos_apps_join_parse(junk, 3, 0, &m, NULL), EOS_EMALFORMED);
    uint8_t *grant = NULL;
    size_t gs = 0;
    EOS_CHECK(eos_apps_join_grant(a, kv, NULL, NULL, junk, sizeof junk, &grant, &gs, NULL) != 0);
    eos_kv_close(kv);
    eos_tee_free(a);
    eos_tee_free(a2);
    eos_tee_free(b);
}

static eos_ratls_server *ratls_in(eos_tee *tee, const char *sub, const uint8_t *ca, size_t ca_size)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    mkdir(path, 0700);
    eos_ratls_server_options o = {.data_dir = path, .ca_blob = ca, .ca_blob_size = ca_size};
    eos_ratls_server *s = NULL;
    EOS_CHECK_INT(eos_ratls_server_new(tee, &o, &s, NULL), 0);
    return s;
}

static int same_ca(eos_ratls_server *x, eos_ratls_server *y)
{
    uint8_t *a = NULL, *b = NULL;
    size_t an = 0, bn = 0;
    EOS_CHECK_INT(eos_ratls_server_export_ca(x, &a, &an), 0);
    EOS_CHECK_INT(eos_ratls_server_export_ca(y, &b, &bn), 0);
    int same = an == bn && memcmp(a, b, an) == 0;
    eos_free(a, an);
    eos_free(b, bn);
    return same;
}

/* The member hands over its RA-TLS CA with the data key: the joiner's
 * certificate manager takes it, seals it, and finds it again at restart. */
static void test_join_hands_over_ca(void)
{
    eos_tee *a = sim(NULL), *a2 = sim(NULL);
    eos_kv *kv = store(a, "member-ca");
    eos_ratls_server *ms = ratls_in(a, "member-ratls", NULL, 0);
    eos_apps_join *j = NULL;
    uint8_t *req = NULL, *grant = NULL, *ca = NULL, key[32];
    size_t req_size = 0, grant_size = 0, ca_size = 0;
    EOS_CHECK_INT(eos_apps_join_request(a2, &j, &req, &req_size, NULL), 0);
    EOS_CHECK_INT(eos_apps_join_grant(a, kv, ms, NULL, req, req_size, &grant, &grant_size, NULL),
                  0);
    EOS_CHECK_INT(eos_apps_join_accept(j, a2, NULL, grant, grant_size, key, &ca, &ca_size, NULL),
                  0);
    EOS_CHECK(ca != NULL && ca_size > 100);
    eos_ratls_server *js = ratls_in(a2, "joiner-ratls", ca, ca_size);
    EOS_CHECK(same_ca(ms, js));
    eos_ratls_server_free(js);
    js = ratls_in(a2, "joiner-ratls", NULL, 0); /* a restart: unsealed */
    EOS_CHECK(same_ca(ms, js));
    eos_ratls_server *other = ratls_in(a2, "other-ratls", NULL, 0);
    EOS_CHECK(!same_ca(ms, other));
    /* A CA in the grant that is not one: refused by the certificate manager. */
    char path[256];
    snprintf(path, sizeof path, "%s/bad-ratls", dir);
    mkdir(path, 0700);
    eos_ratls_server_options o = {.data_dir = path, .ca_blob = ca, .ca_blob_size = 10};
    eos_ratls_server *bad = NULL;
    EOS_CHECK(eos_ratls_server_new(a2, &o, &bad, NULL) != 0);
    eos_ratls_server_free(other);
    eos_ratls_server_free(js);
    eos_ratls_server_free(ms);
    eos_free(ca, ca_size);
    eos_free(req, req_size);
    eos_free(grant, grant_size);
    eos_apps_join_free(j);
    eos_kv_close(kv);
    eos_tee_free(a);
    eos_tee_free(a2);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    EOS_RUN(test_join);
    EOS_RUN(test_join_hands_over_ca);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return eos_test_finish();
}
