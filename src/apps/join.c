/* Releasing the store's data key to an attested peer (serve --join). The
 * joiner sends an ephemeral X25519 key with its TEE's evidence over it; a
 * member checks that evidence (genuine, not debug, and a measurement the
 * cluster allows: by default its own) and answers with its own ephemeral
 * key, its own evidence over both keys, and the data key sealed with
 * AES-256-GCM under HKDF of the X25519 secret. The joiner checks the
 * member's evidence the same way before using the key. The cluster's RA-TLS
 * CA (certificate, chain and key) travels sealed with the data key, so that
 * every node's certificates chain to one root.
 *
 *   request: "EOSJOIN1" | joiner key (32) | u32 BE size | evidence
 *   grant:   "EOSGRNT2" | member key (32) | nonce (12) | u32 BE sealed size |
 *            sealed (data key (32) | CA, ratls export layout or nothing) |
 *            GCM tag (16) | u32 BE size | evidence */
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "eos/ratls.h"
#include "eos/tee.h"
#include "internal.h"

#define REQ_MAGIC    "EOSJOIN1"
#define GRANT_MAGIC  "EOSGRNT2"
#define PUB          32
#define NONCE        12
#define TAG          16
#define KEY          32
#define MAX_EVIDENCE (64u * 1024u)
#define MAX_SEALED   (KEY + 256u * 1024u)

struct eos_apps_join {
    EVP_PKEY *priv;
    uint8_t pub[PUB];
};

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Report data: SHA-512 of a label and the keys it vouches for. */
static void report_data(const char *label, const uint8_t *a, const uint8_t *b,
                        uint8_t out[EOS_TEE_REPORT_DATA_SIZE])
{
    uint8_t buf[64 + 2 * PUB];
    size_t n = strlen(label);
    memcpy(buf, label, n);
    memcpy(buf + n, a, PUB);
    if (b)
        memcpy(buf + n + PUB, b, PUB);
    SHA512(buf, n + PUB + (b ? PUB : 0), out);
}

int eos_apps_join_parse(const uint8_t *msg, size_t size, int grant, eos_apps_join_msg *out,
                        eos_diag *d)
{
    size_t head = 8 + PUB;
    memset(out, 0, sizeof *out);
    if (size < head + 4 || memcmp(msg, grant ? GRANT_MAGIC : REQ_MAGIC, 8) != 0)
        return eos_diag_set(d, EOS_EMALFORMED, "join", -1, "not a %s message",
                            grant ? "join grant" : "join request");
    out->pub = msg + 8;
    if (grant) {
        if (size < head + NONCE + 4)
            return eos_diag_set(d, EOS_EMALFORMED, "join", -1, "the join grant is truncated");
        uint32_t sealed = get_be32(msg + head + NONCE);
        if (sealed < KEY || sealed > MAX_SEALED || size - head - NONCE - 4 < sealed + TAG + 4)
            return eos_diag_set(d, EOS_EMALFORMED, "join", (int64_t)(head + NONCE),
                                "the sealed size %u does not fit the grant", sealed);
        out->nonce = msg + head;
        out->sealed = msg + head + NONCE + 4;
        out->sealed_size = sealed;
        out->tag = out->sealed + sealed;
        head += NONCE + 4 + sealed + TAG;
    }
    uint32_t ev = get_be32(msg + head);
    if (ev == 0 || ev > MAX_EVIDENCE || size - head - 4 != ev)
        return eos_diag_set(d, EOS_EMALFORMED, "join", (int64_t)head,
                            "the evidence size %u does not fit the message", ev);
    out->evidence = msg + head + 4;
    out->evidence_size = ev;
    return 0;
}

/* The verifier options a join is checked under: the policy's (as for
 * `enclave-os verify`), Intel's root from root_ca_file when they name none,
 * simulated evidence only for a simulated node, never debug, and no
 * measurement expected (the policy's list is checked here). */
static void verify_opts(eos_tee *tee, const eos_apps_join_policy *pol, eos_ratls_verify_opts *o)
{
    memset(o, 0, sizeof *o);
    if (pol && pol->verify)
        *o = *pol->verify;
    if (!o->sgx_root_ca_file && pol)
        o->sgx_root_ca_file = pol->root_ca_file;
    o->allow_simulated = strcmp(eos_tee_name(tee), "sim") == 0;
    o->allow_debug = 0;
    o->expect_measurement = NULL;
    o->expect_measurement_size = 0;
}

/* Verifies with each of the policy's SEV-SNP VCEKs in turn (one per chip),
 * or with the options alone; the first that verifies wins. */
static int verify_any(const uint8_t *ev, size_t ev_size, const uint8_t *rd,
                      const eos_apps_join_policy *pol, eos_ratls_verify_opts *o,
                      eos_ratls_verify_result *r, eos_diag *inner)
{
    int rc;
    size_t n = pol && o->snp_vcek_file == NULL ? pol->snp_vcek_count : 0;
    if (n == 0) {
        eos_diag_init(inner);
        return eos_ratls_verify_evidence(ev, ev_size, rd, o, r, inner);
    }
    for (size_t i = 0; i < n; i++) {
        o->snp_vcek_file = pol->snp_vceks[i];
        eos_diag_init(inner);
        rc = eos_ratls_verify_evidence(ev, ev_size, rd, o, r, inner);
        if (rc == 0 || r->kind != EOS_TEE_KIND_SEV_SNP)
            return rc;
    }
    return rc;
}

int eos_apps_join_check(eos_tee *tee, const eos_apps_join_policy *pol, const uint8_t *ev,
                        size_t ev_size, const uint8_t want_rd[EOS_TEE_REPORT_DATA_SIZE],
                        eos_diag *d)
{
    eos_ratls_verify_opts o;
    eos_ratls_verify_result r;
    eos_diag inner;
    verify_opts(tee, pol, &o);
    memset(&r, 0, sizeof r);
    if (verify_any(ev, ev_size, want_rd, pol, &o, &r, &inner) != 0) {
        if (r.simulated && !o.allow_simulated)
            return eos_diag_set(d, EOS_EVERIFY, "join", -1,
                                "the peer's evidence is simulated and this node runs in a TEE");
        return eos_diag_set(
            d, EOS_EVERIFY, "join", -1, "the peer's %s evidence does not verify (step %s): %s",
            eos_tee_kind_name(r.kind), eos_ratls_step_name(r.failed_step), inner.message);
    }
    uint8_t mine[64];
    size_t mine_size = 0;
    if (eos_tee_measurement(tee, mine, &mine_size) != 0)
        return eos_diag_set(d, EOS_ETEE, "join", -1, "this node cannot read its measurement");
    int ok = r.measurement_size == mine_size && memcmp(r.measurement, mine, mine_size) == 0;
    for (size_t i = 0; !ok && pol && i < pol->allowed_count; i++)
        ok = pol->allowed_sizes[i] == r.measurement_size &&
             memcmp(pol->allowed[i], r.measurement, r.measurement_size) == 0;
    if (!ok) {
        char theirs[129], ours[129];
        eos_hex_encode(r.measurement, r.measurement_size, theirs);
        eos_hex_encode(mine, mine_size, ours);
        return eos_diag_set(d, EOS_EPERM, "join", -1,
                            "the peer's measurement %s (%s) is not the cluster's (%s) nor "
                            "allowed by --join-allow",
                            theirs, eos_tee_kind_name(r.kind), ours);
    }
    return 0;
}

/* HKDF-SHA256 of the X25519 secret between priv and peer, salted with both
 * public keys (joiner's first). */
static int shared_key(EVP_PKEY *priv, const uint8_t *peer, const uint8_t *joiner,
                      const uint8_t *member, uint8_t out[KEY])
{
    uint8_t secret[32], salt[2 * PUB];
    size_t n = sizeof secret;
    int ok = 0;
    EVP_PKEY *pp = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, PUB);
    EVP_PKEY_CTX *c = pp ? EVP_PKEY_CTX_new(priv, NULL) : NULL;
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *kc = NULL;
    if (!c || EVP_PKEY_derive_init(c) != 1 || EVP_PKEY_derive_set_peer(c, pp) != 1 ||
        EVP_PKEY_derive(c, secret, &n) != 1 || n != sizeof secret)
        goto out;
    memcpy(salt, joiner, PUB);
    memcpy(salt + PUB, member, PUB);
    kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, secret, sizeof secret),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt, sizeof salt),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (char *)"enclave-os join key v1",
                                          22),
        OSSL_PARAM_construct_end(),
    };
    ok = kc && EVP_KDF_derive(kc, out, KEY, params) == 1;
out:
    OPENSSL_cleanse(secret, sizeof secret);
    EVP_KDF_CTX_free(kc);
    EVP_KDF_free(kdf);
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(pp);
    return ok ? 0 : EOS_ECRYPTO;
}

/* AES-256-GCM of n bytes in to out, with the grant's magic as associated data. */
static int gcm(int enc, const uint8_t key[KEY], const uint8_t *nonce, const uint8_t *in, size_t n,
               uint8_t *out, uint8_t *tag)
{
    int len = 0, ok = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (c && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, enc) == 1 &&
        EVP_CipherUpdate(c, NULL, &len, (const uint8_t *)GRANT_MAGIC, 8) == 1 &&
        EVP_CipherUpdate(c, out, &len, in, (int)n) == 1 &&
        (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG, tag) == 1) &&
        EVP_CipherFinal_ex(c, out + len, &len) == 1 &&
        (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG, tag) == 1))
        ok = 1;
    EVP_CIPHER_CTX_free(c);
    return ok;
}

static int new_key(EVP_PKEY **priv, uint8_t pub[PUB])
{
    size_t n = PUB;
    *priv = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    return *priv && EVP_PKEY_get_raw_public_key(*priv, pub, &n) == 1 && n == PUB ? 0 : EOS_ECRYPTO;
}

/* magic | key | [extra] | u32 size | evidence over rd, allocated. */
static int build(eos_tee *tee, const char *magic, const uint8_t *pub, const uint8_t *extra,
                 size_t extra_size, const uint8_t rd[EOS_TEE_REPORT_DATA_SIZE], uint8_t **out,
                 size_t *out_size, eos_diag *d)
{
    uint8_t *ev = NULL;
    size_t ev_size = 0;
    int rc = eos_tee_evidence(tee, rd, &ev, &ev_size, d);
    if (rc)
        return rc;
    size_t n = 8 + PUB + extra_size + 4 + ev_size;
    uint8_t *m = eos_malloc(n);
    if (!m) {
        eos_free(ev, ev_size);
        return eos_diag_set(d, EOS_ENOMEM, "join", -1, "out of memory");
    }
    memcpy(m, magic, 8);
    memcpy(m + 8, pub, PUB);
    if (extra_size)
        memcpy(m + 8 + PUB, extra, extra_size);
    put_be32(m + 8 + PUB + extra_size, (uint32_t)ev_size);
    memcpy(m + 12 + PUB + extra_size, ev, ev_size);
    eos_free(ev, ev_size);
    *out = m;
    *out_size = n;
    return 0;
}

int eos_apps_join_request(eos_tee *tee, eos_apps_join **out, uint8_t **req, size_t *req_size,
                          eos_diag *d)
{
    uint8_t rd[EOS_TEE_REPORT_DATA_SIZE];
    eos_apps_join *j = eos_calloc(1, sizeof *j);
    if (!j)
        return eos_diag_set(d, EOS_ENOMEM, "join", -1, "out of memory");
    int rc = new_key(&j->priv, j->pub);
    if (rc) {
        eos_apps_join_free(j);
        return eos_diag_set(d, rc, "join", -1, "cannot make an X25519 key");
    }
    report_data("enclave-os join request v1", j->pub, NULL, rd);
    if ((rc = build(tee, REQ_MAGIC, j->pub, NULL, 0, rd, req, req_size, d)) != 0) {
        eos_apps_join_free(j);
        return rc;
    }
    *out = j;
    return 0;
}

int eos_apps_join_grant(eos_tee *tee, eos_kv *kv, eos_ratls_server *ratls,
                        const eos_apps_join_policy *pol, const uint8_t *req, size_t req_size,
                        uint8_t **out, size_t *out_size, eos_diag *d)
{
    eos_apps_join_msg m;
    uint8_t rd[EOS_TEE_REPORT_DATA_SIZE], pub[PUB], k[KEY];
    uint8_t *ca = NULL, *plain = NULL, *extra = NULL;
    size_t ca_size = 0, plain_size = 0, extra_size = 0;
    EVP_PKEY *priv = NULL;
    int rc = eos_apps_join_parse(req, req_size, 0, &m, d);
    if (rc)
        return rc;
    report_data("enclave-os join request v1", m.pub, NULL, rd);
    if ((rc = eos_apps_join_check(tee, pol, m.evidence, m.evidence_size, rd, d)) != 0) {
        EOS_WARN("cluster", "refused a node that asked to join: %s", d ? d->message : "");
        return rc;
    }
    if ((rc = new_key(&priv, pub)) != 0 || (rc = shared_key(priv, m.pub, m.pub, pub, k)) != 0) {
        rc = eos_diag_set(d, EOS_ECRYPTO, "join", -1, "X25519 failed");
        goto out;
    }
    if (ratls && eos_ratls_server_export_ca(ratls, &ca, &ca_size) != 0) {
        rc = eos_diag_set(d, EOS_ECRYPTO, "join", -1, "cannot export the cluster's CA");
        goto out;
    }
    /* plain: data key | CA; extra: nonce | u32 size | sealed | tag */
    plain_size = KEY + ca_size;
    extra_size = NONCE + 4 + plain_size + TAG;
    plain = eos_malloc(plain_size);
    extra = eos_malloc(extra_size);
    if (!plain || !extra || plain_size > MAX_SEALED) {
        rc = eos_diag_set(d, EOS_ENOMEM, "join", -1, "out of memory");
        goto out;
    }
    eos_kv_master_key(kv, plain);
    if (ca_size)
        memcpy(plain + KEY, ca, ca_size);
    put_be32(extra + NONCE, (uint32_t)plain_size);
    if (RAND_bytes(extra, NONCE) != 1 ||
        !gcm(1, k, extra, plain, plain_size, extra + NONCE + 4, extra + NONCE + 4 + plain_size)) {
        rc = eos_diag_set(d, EOS_ECRYPTO, "join", -1, "sealing the data key failed");
        goto out;
    }
    report_data("enclave-os join grant v1", pub, m.pub, rd);
    rc = build(tee, GRANT_MAGIC, pub, extra, extra_size, rd, out, out_size, d);
    if (rc == 0)
        EOS_INFO("cluster", "released the data key%s to an attested node that joins",
                 ca_size ? " and the cluster's CA" : "");
out:
    OPENSSL_cleanse(k, sizeof k);
    if (plain) {
        OPENSSL_cleanse(plain, plain_size);
        eos_free(plain, plain_size);
    }
    if (ca) {
        OPENSSL_cleanse(ca, ca_size);
        eos_free(ca, ca_size);
    }
    eos_free(extra, extra_size);
    EVP_PKEY_free(priv);
    return rc;
}

int eos_apps_join_accept(eos_apps_join *j, eos_tee *tee, const eos_apps_join_policy *pol,
                         const uint8_t *grant, size_t size, uint8_t key[32], uint8_t **ca,
                         size_t *ca_size, eos_diag *d)
{
    eos_apps_join_msg m;
    uint8_t rd[EOS_TEE_REPORT_DATA_SIZE], k[KEY], tag[TAG];
    uint8_t *plain = NULL;
    if (ca) {
        *ca = NULL;
        *ca_size = 0;
    }
    int rc = eos_apps_join_parse(grant, size, 1, &m, d);
    if (rc)
        return rc;
    report_data("enclave-os join grant v1", m.pub, j->pub, rd);
    if ((rc = eos_apps_join_check(tee, pol, m.evidence, m.evidence_size, rd, d)) != 0)
        return rc;
    if (shared_key(j->priv, m.pub, j->pub, m.pub, k) != 0)
        return eos_diag_set(d, EOS_ECRYPTO, "join", -1, "X25519 failed");
    if (!(plain = eos_malloc(m.sealed_size))) {
        rc = eos_diag_set(d, EOS_ENOMEM, "join", -1, "out of memory");
        goto out;
    }
    memcpy(tag, m.tag, TAG);
    if (!gcm(0, k, m.nonce, m.sealed, m.sealed_size, plain, tag)) {
        rc = eos_diag_set(d, EOS_EVERIFY, "join", -1, "the sealed data key does not authenticate");
        goto out;
    }
    memcpy(key, plain, KEY);
    if (ca && m.sealed_size > KEY) {
        *ca_size = m.sealed_size - KEY;
        if (!(*ca = eos_malloc(*ca_size))) {
            *ca_size = 0;
            rc = eos_diag_set(d, EOS_ENOMEM, "join", -1, "out of memory");
            goto out;
        }
        memcpy(*ca, plain + KEY, *ca_size);
    }
out:
    OPENSSL_cleanse(k, sizeof k);
    if (plain) {
        OPENSSL_cleanse(plain, m.sealed_size);
        eos_free(plain, m.sealed_size);
    }
    return rc;
}

void eos_apps_join_free(eos_apps_join *j)
{
    if (!j)
        return;
    EVP_PKEY_free(j->priv);
    eos_free(j, sizeof *j);
}

void eos_apps_join_enable(eos_apps *apps, eos_tee *tee, const eos_apps_join_policy *pol)
{
    apps->join_tee = tee;
    apps->join_policy = pol;
}

int eos_apps_join_answer(eos_apps *apps, const uint8_t *req, size_t req_size, uint8_t **out,
                         size_t *out_size, eos_diag *d)
{
    if (!apps->join_tee || !apps->kv || !eos_kv_shared(apps->kv))
        return eos_diag_set(d, EOS_EUNSUPPORTED, "join", -1,
                            "this node keeps no shared store: there is no cluster to join");
    return eos_apps_join_grant(apps->join_tee, apps->kv, apps->ratls, apps->join_policy, req,
                               req_size, out, out_size, d);
}
