/* RA-TLS: certificates that carry TEE evidence and configuration extensions,
 * the configuration Merkle tree and manifest (SPEC 5.2), the server-side
 * certificate manager, and the verifier behind `enclave-os verify`. */
#ifndef EOS_RATLS_H
#define EOS_RATLS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "eos/common.h"
#include "eos/tee.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Certificate extension OIDs (SPEC 5.1). */
#define EOS_RATLS_OID_SGX_QUOTE     "1.2.840.113741.1.13.1.0"
#define EOS_RATLS_OID_TDX_QUOTE     "1.2.840.113741.1.5.5.1.6"
#define EOS_RATLS_OID_SNP_REPORT    "1.3.6.1.4.1.65230.4.1"
#define EOS_RATLS_OID_CONFIG_ROOT   "1.3.6.1.4.1.65230.1.1"
#define EOS_RATLS_OID_APP_NAME      "1.3.6.1.4.1.65230.2.1"
#define EOS_RATLS_OID_APP_ROUTE     "1.3.6.1.4.1.65230.2.2"
#define EOS_RATLS_OID_APP_CODE_HASH "1.3.6.1.4.1.65230.2.3"
#define EOS_RATLS_OID_APPS_HASH     "1.3.6.1.4.1.65230.2.5"
/* TLS ClientHello extension carrying a challenge nonce of 1 to 64 bytes. */
#define EOS_RATLS_CHALLENGE_EXT 0xFFBB
#define EOS_RATLS_NONCE_MAX     64

/* The layer's version string, static storage (never freed). */
EOS_API const char *eos_ratls_version(void);

/* ---- Report data ---------------------------------------------------------- */

/* out = SHA-512(SHA-256(spki_der) || binding). Borrows all inputs. */
EOS_API int eos_ratls_report_data(const uint8_t *spki_der, size_t spki_size, const uint8_t *binding,
                                  size_t binding_size, uint8_t out[64]);
/* The deterministic-mode binding of a UTC time: "YYYY-MM-DDTHH:MMZ" (17
 * characters and a NUL into out). Seconds are ignored. */
EOS_API void eos_ratls_time_binding(int64_t unix_time, char out[18]);

/* ---- Configuration (input of the Merkle tree and the certificates) -------- */

/* The manifest's record of one secret: its name and a salted commitment to
 * its value (see eos_ratls_secret_commitment). Borrowed. */
typedef struct eos_ratls_secret_entry {
    const char *key;
    uint8_t commitment[32];
} eos_ratls_secret_entry;

/* One loaded app. All strings are borrowed. */
typedef struct eos_ratls_app {
    const char *name;     /* required */
    const char *route;    /* required, e.g. "/my-app" */
    const char *hostname; /* NULL when the app has none (leaf hash is zero) */
    const char *env_json; /* JSON object of string values, or NULL (leaf hash is zero);
                             canonicalised before hashing (see eos_ratls_canonical_env) */
    uint8_t code_hash[32];
    /* Optional leaves, present only when set, so apps without them keep
     * their roots: wasm.<n>.config (the canonical JSON object of wasi:config
     * values, like env), wasm.<n>.auth (input: 32 bytes, the hash of the
     * caller policy and its keys), and per secret, sorted by key,
     * wasm.<n>.secret.<key> (input: the 32-byte commitment). */
    const char *config_json;
    const uint8_t *auth_hash;
    const eos_ratls_secret_entry *secrets;
    size_t secret_count;
    /* Optional: the app's outbound allow-list, rules joined by '\n' in load
     * order; NULL = no egress and no leaf (roots without it are unchanged).
     * The leaf's input is its canonical JSON (eos_ratls_canonical_rules). */
    const char *outbound;
} eos_ratls_app;

/* The commitment to a secret's value the manifest carries:
 * SHA-256("enclave-os secret v1" || 0x00 || app || 0x00 || key || 0x00 ||
 * salt || value). A fresh 32-byte salt per value hides the value (no
 * dictionary check is possible without the salt) while whoever set it, and
 * knows the salt, can check that the manifest holds exactly that value; a
 * new value or salt changes the commitment. Borrows all. */
EOS_API void eos_ratls_secret_commitment(const char *app, const char *key, const uint8_t salt[32],
                                         const uint8_t *value, size_t value_size,
                                         uint8_t out[32]);

/* A further core setting that changes behaviour, e.g. {"core.management",
 * "token", 5}. value NULL means absent (leaf hash zero). Borrowed. */
typedef struct eos_ratls_core_setting {
    const char *name;
    const uint8_t *value;
    size_t value_size;
} eos_ratls_core_setting;

typedef struct eos_ratls_config {
    const eos_ratls_app *apps; /* any order; the tree sorts by name */
    size_t app_count;
    const eos_ratls_core_setting *core; /* kept in the given order after core.tee */
    size_t core_count;
} eos_ratls_config;

/* Canonical form of an env object: keys sorted bytewise, no whitespace,
 * strings escaped minimally (\" \\ and \u00xx for bytes below 0x20). Values
 * must be strings; duplicate keys are refused. Free *out with
 * eos_free(*out, *out_size + 1) (NUL-terminated). */
EOS_API int eos_ratls_canonical_env(const char *env_json, char **out, size_t *out_size,
                                    eos_diag *diag);
/* Canonical form of an outbound allow-list (the input of wasm.NAME.outbound):
 * a JSON array of the rules in load order, no whitespace, strings escaped as
 * in eos_ratls_canonical_env. rules is the list joined by '\n'. Free *out
 * with eos_free(*out, *out_size + 1) (NUL-terminated). 0 or EOS_ENOMEM. */
EOS_API int eos_ratls_canonical_rules(const char *rules, char **out, size_t *out_size);

/* ---- Merkle tree and manifest (SPEC 5.2) ---------------------------------- */

typedef struct eos_ratls_merkle eos_ratls_merkle;

/* Builds the tree. Leaves, in order: core.ca_cert (ca_der), core.tee (the
 * ASCII TEE name, one 0x00 byte, the raw measurement), cfg->core in order,
 * then per app sorted by name wasm.<n>.code_hash, .route, .hostname, .env,
 * and when set .config, .auth and .secret.<key> (keys sorted bytewise).
 * Borrows all inputs. Free with eos_ratls_merkle_free(). */
EOS_API int eos_ratls_merkle_build(const uint8_t *ca_der, size_t ca_der_size, const char *tee_name,
                                   const uint8_t *measurement, size_t measurement_size,
                                   const eos_ratls_config *cfg, eos_ratls_merkle **out,
                                   eos_diag *diag);
EOS_API void eos_ratls_merkle_free(eos_ratls_merkle *m);
/* Borrowed views, valid until eos_ratls_merkle_free(). */
EOS_API const uint8_t *eos_ratls_merkle_root(const eos_ratls_merkle *m);
/* SHA-256(name_1 || code_hash_1 || ...) over apps sorted by name; zero if none. */
EOS_API const uint8_t *eos_ratls_merkle_apps_hash(const eos_ratls_merkle *m);
EOS_API size_t eos_ratls_merkle_leaf_count(const eos_ratls_merkle *m);
EOS_API const char *eos_ratls_merkle_leaf_name(const eos_ratls_merkle *m, size_t i);
EOS_API const uint8_t *eos_ratls_merkle_leaf_hash(const eos_ratls_merkle *m, size_t i);
/* The binary manifest: [u32 LE count] then [u16 LE name length][name][32-byte
 * hash] per leaf, then the 32-byte root. Borrowed from m, like the views above. */
EOS_API const uint8_t *eos_ratls_merkle_manifest(const eos_ratls_merkle *m, size_t *out_size);
/* {"status":"manifest","entries":[{"name":..,"hash":..}],"root":".."}, NUL-terminated. */
EOS_API const char *eos_ratls_merkle_manifest_json(const eos_ratls_merkle *m, size_t *out_size);

typedef struct eos_ratls_manifest_entry {
    const char *name; /* NOT NUL-terminated; points into the parsed buffer */
    size_t name_len;
    const uint8_t *hash; /* 32 bytes, into the parsed buffer */
} eos_ratls_manifest_entry;

typedef struct eos_ratls_manifest {
    eos_ratls_manifest_entry *entries; /* owned; free with eos_ratls_manifest_free() */
    size_t count;
    uint8_t root[32];          /* the root stated in the manifest */
    uint8_t computed_root[32]; /* SHA-256 of the concatenated leaf hashes */
} eos_ratls_manifest;

/* Parses a binary manifest. Borrows buf, which must outlive out (entries
 * point into it). Truncated input, trailing bytes or a count that cannot fit
 * give EOS_EMALFORMED. The caller compares root and computed_root. */
EOS_API int eos_ratls_manifest_parse(const uint8_t *buf, size_t size, eos_ratls_manifest *out,
                                     eos_diag *diag);
/* Parses the JSON form (the "manifest" response, or its HTTP rendering) into
 * a newly allocated binary manifest; free *out with eos_free(*out, *out_size). */
EOS_API int eos_ratls_manifest_from_json(const char *json, size_t json_size, uint8_t **out,
                                         size_t *out_size, eos_diag *diag);
/* Frees what eos_ratls_manifest_parse() allocated inside m (the struct is
 * the caller's); NULL is allowed. */
EOS_API void eos_ratls_manifest_free(eos_ratls_manifest *m);

/* ---- Server --------------------------------------------------------------- */

typedef struct eos_ratls_server eos_ratls_server;

typedef struct eos_ratls_server_options {
    const char *data_dir;     /* required: the sealed CA lives in <data_dir>/ratls-ca.sealed */
    const char *ca_cert_file; /* operator's intermediate CA (PEM, may hold its chain), */
    const char *ca_key_file;  /* and its key: given once, sealed, then not needed again */
    /* A CA handed over by a cluster member on joining (the layout of
     * eos_ratls_server_export_ca); used and sealed like an operator CA when
     * no ca_cert_file is given. Borrowed. */
    const uint8_t *ca_blob;
    size_t ca_blob_size;
    const char *server_name;  /* CN and DNS SAN of the default leaf; NULL = "enclave-os" */
    int disable_challenge;    /* 1: ignore extension 0xFFBB (deterministic mode only) */
    int64_t renew_seconds;    /* leaf lifetime before renewal; 0 = 86400 (24 h) */
    /* Clock for tests; NULL = time(NULL). */
    int64_t (*now)(void *now_arg);
    void *now_arg;
} eos_ratls_server_options;

/* Creates the certificate manager: unseals (or creates and seals) the
 * enclave CA, then builds the certificates for an empty configuration.
 * Borrows tee (it must outlive the server) and opts. Free with
 * eos_ratls_server_free() after every SSL_CTX configured with it is freed. */
EOS_API int eos_ratls_server_new(eos_tee *tee, const eos_ratls_server_options *opts,
                                 eos_ratls_server **out, eos_diag *diag);
EOS_API void eos_ratls_server_free(eos_ratls_server *srv);
/* The server's CA with its chain and private key, to hand to an attested
 * node joining the cluster so that every node's certificates chain to one
 * root: [u32 LE PEM size][certificates, PEM][key, DER], allocated in *out;
 * wipe it (OPENSSL_cleanse) and free with eos_free(*out, *out_size). */
EOS_API int eos_ratls_server_export_ca(eos_ratls_server *srv, uint8_t **out, size_t *out_size);

/* Installs the certificate callback (SNI selection, renewal, challenge
 * leaves) and the 0xFFBB extension on a server SSL_CTX, and restricts it to
 * TLS 1.3. Call once per SSL_CTX before it accepts; borrows both. */
EOS_API int eos_ratls_server_configure_ctx(eos_ratls_server *srv, SSL_CTX *ctx, eos_diag *diag);

/* Replaces the configuration: rebuilds the Merkle tree and every certificate,
 * then swaps them in atomically. Handshakes that start after this returns
 * present the new certificates; established connections are unaffected. On
 * error nothing changes. Borrows cfg (deep-copied). Thread-safe. */
EOS_API int eos_ratls_server_set_config(eos_ratls_server *srv, const eos_ratls_config *cfg,
                                        eos_diag *diag);
/* Rebuilds the certificates with the current configuration (new NotBefore).
 * Borrows srv. */
EOS_API int eos_ratls_server_renew(eos_ratls_server *srv, eos_diag *diag);

/* Copies of the current state. Free *out with eos_free(*out, *out_size)
 * (manifest JSON and PEM: eos_free(*out, *out_size + 1), NUL-terminated). */
EOS_API int eos_ratls_server_manifest(eos_ratls_server *srv, uint8_t **out, size_t *out_size);
EOS_API int eos_ratls_server_manifest_json(eos_ratls_server *srv, char **out, size_t *out_size);
/* The default leaf and its chain (enclave CA, operator chain) as PEM. */
EOS_API int eos_ratls_server_cert_chain_pem(eos_ratls_server *srv, char **out, size_t *out_size);
EOS_API void eos_ratls_server_merkle_root(eos_ratls_server *srv, uint8_t out[32]);
/* The enclave CA certificate (DER); free with eos_free(*out, *out_size). */
EOS_API int eos_ratls_server_ca_der(eos_ratls_server *srv, uint8_t **out, size_t *out_size);

/* ---- Verifier ------------------------------------------------------------- */

/* Which step of verification failed (EOS_RATLS_STEP_NONE when all passed). */
#define EOS_RATLS_STEP_MAP(X)                                                                      \
    X(NONE, "none")                                                                                \
    X(CONNECT, "connect")                 /* TCP or TLS handshake */                               \
    X(CHAIN, "chain")                     /* certificate chain, --ca anchor, validity */           \
    X(EVIDENCE_EXT, "evidence-ext")       /* no or several evidence extensions */                  \
    X(EVIDENCE_PARSE, "evidence-parse")   /* quote/report malformed or unsupported */              \
    X(EVIDENCE_TYPE, "evidence-type")     /* OID and content disagree */                           \
    X(SIMULATED, "simulated")             /* simulated evidence without --allow-simulated */       \
    X(DEBUG, "debug")                     /* TEE in debug mode without allow_debug */              \
    X(QUOTE_SIGNATURE, "quote-signature") /* DCAP signatures / PCK chain */                        \
    X(TCB, "tcb")                         /* collateral unusable, or TCB status below required */  \
    X(REPORT_DATA, "report-data")         /* report data does not bind key and binding */          \
    X(CHALLENGE, "challenge")             /* nonce not echoed or not bound */                      \
    X(MEASUREMENT, "measurement")         /* --expect-measurement mismatch */                      \
    X(CONFIG_EXT, "config-ext")           /* config extensions missing or malformed */             \
    X(MANIFEST, "manifest")               /* manifest unavailable, malformed or root mismatch */   \
    X(EXPECT_ROOT, "expect-root")         /* --expect-root mismatch */                             \
    X(CODE_HASH, "code-hash")             /* --expect-code-hash mismatch or unknown app */

typedef enum eos_ratls_step {
#define EOS__RATLS_STEP_ENUM(name, str) EOS_RATLS_STEP_##name,
    EOS_RATLS_STEP_MAP(EOS__RATLS_STEP_ENUM)
#undef EOS__RATLS_STEP_ENUM
} eos_ratls_step;

/* "chain", "report-data", ...; static storage. */
EOS_API const char *eos_ratls_step_name(eos_ratls_step step);

/* TCB status from the vendor's collateral, best first. The order is the one
 * --require-tcb uses: a status passes when it is at or before the required
 * one. Intel's statuses; SEV-SNP reports UpToDate or OutOfDate (below the
 * given minimum) or Revoked (VCEK on AMD's CRL). */
#define EOS_RATLS_TCB_MAP(X)                                                                       \
    X(UNKNOWN, "Unknown")            /* not evaluated (no collateral) */                            \
    X(UP_TO_DATE, "UpToDate")                                                                      \
    X(SW_HARDENING_NEEDED, "SWHardeningNeeded")                                                    \
    X(CONFIGURATION_NEEDED, "ConfigurationNeeded")                                                 \
    X(CONFIGURATION_AND_SW_HARDENING_NEEDED, "ConfigurationAndSWHardeningNeeded")                  \
    X(OUT_OF_DATE, "OutOfDate")                                                                    \
    X(OUT_OF_DATE_CONFIGURATION_NEEDED, "OutOfDateConfigurationNeeded")                            \
    X(REVOKED, "Revoked")

typedef enum eos_ratls_tcb_status {
#define EOS__RATLS_TCB_ENUM(name, str) EOS_RATLS_TCB_##name,
    EOS_RATLS_TCB_MAP(EOS__RATLS_TCB_ENUM)
#undef EOS__RATLS_TCB_ENUM
} eos_ratls_tcb_status;

/* "UpToDate", ...; static storage. */
EOS_API const char *eos_ratls_tcb_status_name(eos_ratls_tcb_status s);
/* Parses a status name (as Intel spells it, case-insensitive); 0 or
 * EOS_EINVAL. Borrows name. */
EOS_API int eos_ratls_tcb_status_parse(const char *name, eos_ratls_tcb_status *out);

/* What a collateral document is (see eos_ratls_collateral_describe). */
typedef struct eos_ratls_collateral_info {
    int type;          /* 1 Intel TCB info, 2 Intel enclave (QE) identity, 3 SEV-SNP minimum */
    char id[16];       /* "SGX", "TDX", "QE", "TD_QE", ...; "" when absent */
    int version;       /* the document's format version */
    int64_t issue_date, next_update; /* unix time; 0 when absent */
    uint32_t tcb_evaluation_number;
    size_t level_count;
    char fmspc[13]; /* hex, TCB info only */
} eos_ratls_collateral_info;

/* Parses one collateral document: Intel's TCB info or QE identity JSON as
 * the PCS serves it ({"tcbInfo":...,"signature":...} or
 * {"enclaveIdentity":...}), or the SEV-SNP minimum TCB
 * ({"bootloader":N,"tee":N,"snp":N,"microcode":N}). Checks its structure
 * only (no signature). Borrows json. 0, or EOS_EMALFORMED / EOS_ETOOBIG
 * with diag. */
EOS_API int eos_ratls_collateral_describe(const char *json, size_t size,
                                          eos_ratls_collateral_info *out, eos_diag *diag);

typedef struct eos_ratls_expect_code_hash {
    const char *name;
    uint8_t hash[32];
} eos_ratls_expect_code_hash;

/* What to check. Everything is borrowed. */
typedef struct eos_ratls_verify_opts {
    const char *ca_file; /* PEM trust anchors for the chain; NULL = chain only
                            self-consistent (leaf signed by the presented CA) */
    int allow_simulated;
    int allow_debug;
    const uint8_t *expect_measurement; /* NULL = not checked */
    size_t expect_measurement_size;
    const uint8_t *expect_root; /* 32 bytes, NULL = not checked */
    const eos_ratls_expect_code_hash *expect_code_hashes;
    size_t expect_code_hash_count;
    const uint8_t *nonce; /* challenge sent (1..64 bytes), NULL = deterministic */
    size_t nonce_size;
    const uint8_t *manifest; /* binary manifest to check against the root, or NULL */
    size_t manifest_size;
    int require_manifest;         /* 1: a missing manifest fails step MANIFEST */
    const char *sgx_root_ca_file; /* Intel SGX root CA (PEM): enables offline DCAP checks */
    const char *snp_vcek_file;    /* the chip's VCEK (PEM/DER): checks SEV-SNP signatures */
    const char *snp_ca_file;      /* AMD ASK + ARK (PEM): chains the VCEK, optional */
    /* The time every validity check uses: the RA-TLS chain, the PCK and VCEK
     * chains, CRLs and the collateral's nextUpdate. 0 = the current time. */
    int64_t now;
    /* A directory of vendor collateral (docs/attestation.md): Intel's
     * tcbInfo.json, qeIdentity.json, tcbSignChain.pem, CRLs (optionally
     * prefixed sgx_ or tdx_), or for SEV-SNP vcek.der/.pem and an optional
     * snp_tcb.json minimum. When set the TCB status is evaluated; the trust
     * anchors stay sgx_root_ca_file and snp_ca_file, never the directory. */
    const char *collateral_dir;
    /* The worst TCB status accepted (needs collateral_dir); UNKNOWN = any
     * status but Revoked. */
    eos_ratls_tcb_status require_tcb;
    const char *server_name;      /* SNI for eos_ratls_verify_connect (selects an app's
                                     certificate); NULL = the host unless it is an IP */
} eos_ratls_verify_opts;

/* What was found; filled as far as verification got. */
typedef struct eos_ratls_verify_result {
    eos_ratls_step failed_step;
    eos_tee_kind kind;
    int simulated, debug;
    char tee_name[17];
    uint8_t measurement[64];
    size_t measurement_size;
    uint8_t report_data[64];
    int chain_anchored;  /* the chain ended at a --ca anchor */
    int quote_signature; /* 1 verified, 0 not checked, -1 failed */
    int manifest_checked;
    uint8_t merkle_root[32];
    uint8_t apps_hash[32];
    char binding[65 * 2 + 1]; /* deterministic time string, or "nonce:<hex>" */
    char app_name[256];       /* from 2.1 when present */
    char app_route[256];
    uint8_t app_code_hash[32];
    int has_app;
    eos_ratls_tcb_status tcb_status; /* UNKNOWN unless collateral was given */
    char tcb_detail[256];            /* TCB date and advisories, or SNP TCB values */
    uint8_t cert_sha256[32];         /* SHA-256 of the leaf certificate's DER */
    int has_cert;                    /* the server presented a (well-formed) leaf */
} eos_ratls_verify_result;

/* Verifies a presented chain: der[0] is the leaf, the rest its chain as the
 * server sent it. Borrows all. Returns 0 when every requested check passed,
 * else EOS_EVERIFY (or EOS_ENOMEM) with out->failed_step and diag naming the
 * step and what to do. */
EOS_API int eos_ratls_verify_chain(const uint8_t *const *der, const size_t *der_size, size_t count,
                                   const eos_ratls_verify_opts *opts, eos_ratls_verify_result *out,
                                   eos_diag *diag);

/* Connects to host:port over TLS 1.3 (sending opts->nonce in 0xFFBB when set),
 * fetches the manifest over the framed protocol unless opts->manifest is
 * given (a server that does not serve it leaves the manifest unchecked,
 * unless require_manifest), and verifies as eos_ratls_verify_chain(). Borrows
 * every argument. */
EOS_API int eos_ratls_verify_connect(const char *host, const char *port,
                                     const eos_ratls_verify_opts *opts,
                                     eos_ratls_verify_result *out, eos_diag *diag);

/* Offline DCAP checks of an SGX (v3) or TDX (v4/v5) quote whose
 * certification data is a PCK chain (type 5): the attestation key's signature
 * over header and body, the QE report's binding of that key, the QE report
 * signature by the PCK key, and the PCK chain up to the Intel root CA in
 * root_ca_file (PEM), at the current time. TCB status is not evaluated: see
 * eos_ratls_verify_evidence for that and for a chosen time. Borrows all.
 * Returns 0 or EOS_EVERIFY/EOS_EMALFORMED with diag. */
EOS_API int eos_ratls_verify_quote(const uint8_t *quote, size_t size, const char *root_ca_file,
                                   eos_diag *diag);

/* Verifies bare evidence (a quote or report, no certificate around it):
 * parses it, refuses simulated or debug evidence unless allowed, checks the
 * DCAP signatures and PCK chain (opts->sgx_root_ca_file) or the SEV-SNP
 * signature and VCEK chain (opts->snp_vcek_file or the collateral's VCEK,
 * opts->snp_ca_file), the TCB status when opts->collateral_dir is set, the
 * measurement when opts->expect_measurement is set, and that the report data
 * equals expect_report_data (64 bytes) when it is not NULL. Everything is
 * checked at opts->now. Hardware evidence with no signature check requested
 * fails (step QUOTE_SIGNATURE): bare evidence proves nothing unsigned.
 * Certificate, manifest and code-hash options are ignored. Borrows all.
 * Returns 0 or EOS_EVERIFY (EOS_ENOMEM) with out->failed_step and diag. */
EOS_API int eos_ratls_verify_evidence(const uint8_t *evidence, size_t size,
                                      const uint8_t *expect_report_data,
                                      const eos_ratls_verify_opts *opts,
                                      eos_ratls_verify_result *out, eos_diag *diag);

/* Sets a hardware-trust option by its command-line name: "--collateral"
 * (DIR), "--require-tcb" (a status name other than Revoked) or "--at" (a
 * UTC time YYYY-MM-DDTHH:MM:SSZ or unix seconds, into opts->now). Returns 1
 * when name is one of them and value is good, 0 when name is another
 * option, or EOS_EINVAL with diag. value is borrowed (opts keeps it). */
EOS_API int eos_ratls_verify_option(eos_ratls_verify_opts *opts, const char *name,
                                    const char *value, eos_diag *diag);
/* 1 when name is one of the options above (they all take a value). */
EOS_API int eos_ratls_verify_option_takes_value(const char *name);

#ifdef __cplusplus
}
#endif
#endif
