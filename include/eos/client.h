/* The client library: connect to an enclave-os server over TLS, speak the
 * framed management protocol (eos/proto.h), and make the typed management
 * calls (load, unload, list, call, manifest, verify). Attestation
 * verification of a connection plugs in through the verify callback
 * (eos_ratls_verify_chain); eos_client_verify() is the whole check with its
 * findings typed. This header needs no OpenSSL headers. */
#ifndef EOS_CLIENT_H
#define EOS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "eos/common.h"
#include "eos/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

/* OpenSSL's connection type, declared so this header needs no OpenSSL headers. */
struct ssl_st;

/* The layer's version string, static storage. */
EOS_API const char *eos_client_version(void);

/* Called once after the TLS handshake, before any request is sent, with the
 * established connection (borrowed; the peer's chain is available through
 * SSL_get0_peer_certificate / SSL_get_peer_cert_chain). Return 0 to accept,
 * or an eos_err (usually EOS_EVERIFY) with detail in d to abort the connect.
 * This is where attestation (RA-TLS) verification goes. */
typedef int (*eos_client_verify_fn)(void *ud, struct ssl_st *ssl, eos_diag *d);

typedef struct eos_client_config {
    unsigned timeout_ms;         /* connect, handshake and each send/receive; 0 = 10 s */
    size_t max_frame_size;       /* largest response accepted; 0 = EOS_PROTO_DEFAULT_MAX_FRAME */
    const char *server_name;     /* SNI; NULL = the host part of the address when it is a name */
    const char *alpn;            /* e.g. "http/1.1"; NULL = none (the framed protocol) */
    eos_client_verify_fn verify; /* NULL = no verification (development only) */
    void *verify_ud;
} eos_client_config;

/* A client connection; not thread-safe (one thread at a time). Writing to a
 * server that closed may raise SIGPIPE: programs using this library should
 * ignore SIGPIPE (the enclave-os command does). */
typedef struct eos_client eos_client;

/* Defaults as documented above. Borrows cfg. */
EOS_API void eos_client_config_init(eos_client_config *cfg);

/* Connects to "HOST:PORT" ("[::1]:8443" for IPv6) and completes the TLS 1.3
 * handshake; cfg (NULL = defaults) and hostport are borrowed. Free with
 * eos_client_close(). Errors: EOS_EINVAL (address), EOS_ECLOSED (refused or
 * unreachable), EOS_ETIMEDOUT, EOS_ETLS (handshake), the verify callback's
 * error, EOS_ENOMEM; detail in d. */
EOS_API int eos_client_connect(const eos_client_config *cfg, const char *hostport, eos_client **out,
                               eos_diag *d);
/* Sends one frame around payload (size bytes, borrowed). */
EOS_API int eos_client_send_frame(eos_client *c, const uint8_t *payload, size_t size, eos_diag *d);
/* Sends raw bytes as they are (borrowed): for tests of malformed input. */
EOS_API int eos_client_send_raw(eos_client *c, const uint8_t *bytes, size_t size, eos_diag *d);
/* Receives raw bytes as they come (an HTTP answer on this connection, for
 * the well-known endpoints): up to cap into buf (borrowed), the count in
 * *out_n; 0 with *out_n = 0 once the server closed. Bytes already buffered
 * by eos_client_recv_msg come first. */
EOS_API int eos_client_recv_raw(eos_client *c, uint8_t *buf, size_t cap, size_t *out_n,
                                eos_diag *d);
/* Sends a message: unit kinds ignore bytes; DATA carries size bytes (borrowed). */
EOS_API int eos_client_send_msg(eos_client *c, eos_proto_msg_kind kind, const uint8_t *bytes,
                                size_t size, eos_diag *d);
/* Receives one message and returns its kind (> 0). For DATA and ERROR,
 * *out_bytes points to its bytes, borrowed from c and valid until the next
 * call on c (out_bytes/out_size may be NULL). A malformed response gives
 * EOS_EPROTO; EOS_ECLOSED when the server closed; EOS_ETIMEDOUT. */
EOS_API int eos_client_recv_msg(eos_client *c, const uint8_t **out_bytes, size_t *out_size,
                                eos_diag *d);
/* Sends "Ping", waits for "Pong"; *out_rtt_ns (may be NULL) gets the round
 * trip. An ERROR response is returned as EOS_EPROTO with its text in d. */
EOS_API int eos_client_ping(eos_client *c, uint64_t *out_rtt_ns, eos_diag *d);
/* The negotiated TLS version ("TLSv1.3") and cipher, static strings. */
EOS_API const char *eos_client_tls_version(const eos_client *c);
EOS_API const char *eos_client_cipher(const eos_client *c);
/* ---- Typed management calls (SPEC 3.1) ----
 * Each sends one inner request on c and waits for its answer: the server's
 * answer document (a JSON object, NUL-terminated) in *out, free with
 * eos_client_doc_free(*out, *out_size). An operation the server refused is
 * an answer ({"status":"error","code",...}), not an error return; an Error
 * frame gives EOS_EPROTO with its text in d. Strings are borrowed. */

EOS_API void eos_client_doc_free(char *doc, size_t size);
/* Any inner request (inner_json, size bytes). */
EOS_API int eos_client_request(eos_client *c, const char *inner_json, size_t size, char **out,
                               size_t *out_size, eos_diag *d);

typedef struct eos_client_load_args {
    const char *name;
    const char *route;    /* NULL = "/NAME" */
    const char *hostname; /* NULL = none */
    const char *env_json; /* a JSON object of strings, or NULL */
    /* wasi:config values (a JSON object of strings), the caller policy
     * (JSON), its JWKS (JSON) and client CA (PEM), each text or NULL. */
    const char *config_json, *caller_policy, *jwks, *client_ca;
    /* outbound allow-list rules ("https://api.example.com"), or NULL */
    const char *const *allow_outbound;
    size_t allow_outbound_count;
    const uint8_t *bytes; /* the component */
    size_t size;
    uint64_t max_fuel, max_memory_mb; /* 0 = the server's defaults */
    uint64_t max_concurrency;         /* 0 = the server's default */
    const char *tier;                 /* "auto", "interp", "compiled"; NULL = the server's */
    const char *token;                /* management token ("auth"), or NULL */
    /* Called after each piece sent (sent and total bytes of the frame); may be NULL. */
    void (*progress)(void *ud, uint64_t sent, uint64_t total);
    void *progress_ud;
} eos_client_load_args;

/* wasm_load, streamed: memory stays at the component plus one piece.
 * EOS_ETOOBIG when its frame would pass the protocol's limit. */
EOS_API int eos_client_load(eos_client *c, const eos_client_load_args *args, char **out,
                            size_t *out_size, eos_diag *d);
/* wasm_unload; erase also deletes the app's stored data. */
EOS_API int eos_client_unload(eos_client *c, const char *name, int erase, const char *token,
                              char **out, size_t *out_size, eos_diag *d);
/* wasm_list. */
EOS_API int eos_client_list(eos_client *c, char **out, size_t *out_size, eos_diag *d);
/* wasm_call of app's function with params_json (a JSON array; NULL = []). */
EOS_API int eos_client_call(eos_client *c, const char *app, const char *function,
                            const char *params_json, char **out, size_t *out_size, eos_diag *d);
/* wasm_call with a command line ("args": argc strings, argv[0] first,
 * borrowed) for a wasi:cli/run component's get-arguments; argv NULL sends
 * none (the server gives the app's name as argv[0]). A command that called
 * exit answers {"status":"exited","exit_code":N}. */
EOS_API int eos_client_call_argv(eos_client *c, const char *app, const char *function,
                                 const char *params_json, const char *const *argv, size_t argc,
                                 char **out, size_t *out_size, eos_diag *d);
/* eos_client_call_cmd flags: the environment without APP_NAME/APP_VERSION
 * ("no_app_env"), no preopened directory ("no_preopen"); docs/protocol.md. */
enum { EOS_CLIENT_CALL_NO_APP_ENV = 1, EOS_CLIENT_CALL_NO_PREOPEN = 2 };
/* As eos_client_call_argv, with EOS_CLIENT_CALL_* flags. */
EOS_API int eos_client_call_cmd(eos_client *c, const char *app, const char *function,
                                const char *params_json, const char *const *argv, size_t argc,
                                unsigned flags, char **out, size_t *out_size, eos_diag *d);
/* config_manifest: the manifest document, for eos_ratls_manifest_from_json()
 * and verification against the certificate's root. */
EOS_API int eos_client_manifest(eos_client *c, char **out, size_t *out_size, eos_diag *d);

/* ---- verify ----
 * The server's attestation and every app of its attested configuration.
 * What to check is eos/ratls.h's eos_ratls_verify_opts (declared here only
 * by its tag, so this header needs no OpenSSL headers). */
struct eos_ratls_verify_opts;
struct eos_ratls_verify_result;

/* One leaf of an app's configuration besides its code hash: "route",
 * "hostname", "env", "config", "auth", "outbound" or "secret.KEY", with the
 * hash the manifest commits to (SHA-256 of the value, zero when unset). */
typedef struct eos_client_commitment {
    char *name;
    uint8_t hash[32];
} eos_client_commitment;

/* An app of the checked manifest. The values come from the server's wasm_list
 * and are kept only when they hash to the manifest's leaves (confirmed); a
 * value the server did not list is NULL / has_code_hash 0. */
typedef struct eos_client_verified_app {
    char *name;
    char *route;          /* confirmed against wasm.NAME.route, or NULL */
    char *hostname;       /* confirmed against wasm.NAME.hostname, or NULL (none) */
    uint8_t code_hash[32];
    int has_code_hash;    /* the server listed a code hash (see confirmed) */
    int confirmed;        /* SHA-256 of each listed value is the manifest's leaf */
    char *tier;           /* the tier asked for ("interpret", ...; not attested), or NULL */
    char *outbound;       /* allow-list rules joined by '\n' (confirmed), or NULL = none */
    eos_client_commitment *commitments; /* every wasm.NAME.* leaf but code_hash */
    size_t commitment_count;
} eos_client_verified_app;

typedef struct eos_client_verify_result {
    const char *failed_step;    /* "none" when every check passed, else "chain", ...; static */
    char tee[17];               /* "sim", "sgx", "tdx", "sev-snp"; "" when not reached */
    int simulated, debug;
    uint8_t measurement[64];
    size_t measurement_size;
    uint8_t config_root[32];    /* from the certificate (has_root) */
    uint8_t apps_hash[32];
    int has_root;
    /* The manifest was fetched (or given), its root recomputed, and it equals
     * the certificate's root: the apps below are the attested ones. */
    int manifest_checked;
    uint8_t cert_sha256[32];    /* SHA-256 of the leaf certificate (has_cert) */
    int has_cert;
    eos_client_verified_app *apps; /* apps_listed: every app of the checked manifest */
    size_t app_count;
    int apps_listed;
    int mismatch;               /* a listed value contradicts the manifest (fails "code-hash") */
    uint8_t console_leaf[32];   /* the manifest's core.console leaf (has_console) */
    int has_console;
    /* core.outbound_ca, absent when the server trusts the system's bundle:
     * has_outbound_ca 1 = outbound_ca is the SHA-256 of the CA bundle apps'
     * outgoing TLS trusts (listed by the server and hashing to the leaf);
     * 2 = the leaf only (outbound_ca_leaf), the server named no bundle hash
     * or one that does not hash to it (also counted in mismatch). */
    uint8_t outbound_ca[32];
    uint8_t outbound_ca_leaf[32];
    int has_outbound_ca;
    /* Everything the verifier found (chain anchor, quote signature, TCB
     * status, binding, the certificate's own app): eos/ratls.h's result,
     * owned by this result. */
    struct eos_ratls_verify_result *detail;
} eos_client_verify_result;

/* Verifies the server at "HOST:PORT": fetches its manifest and app list over
 * the framed protocol unless opts->manifest is given, then checks the RA-TLS
 * certificate as eos_ratls_verify_connect() (opts borrowed; NULL = defaults,
 * which refuse simulated TEEs), and confirms each listed app against the
 * checked manifest. Returns 0 when every check passed, else EOS_EVERIFY (or
 * EOS_EINVAL for the address, EOS_ENOMEM) with detail in d; *out is filled as
 * far as verification got in both cases: free with
 * eos_client_verify_result_free(). */
EOS_API int eos_client_verify(const char *hostport, const struct eos_ratls_verify_opts *opts,
                              eos_client_verify_result *out, eos_diag *d);
/* Frees what eos_client_verify() allocated in r (the struct is the caller's). */
EOS_API void eos_client_verify_result_free(eos_client_verify_result *r);

/* Sends close_notify, closes the socket and frees c. NULL is allowed. */
EOS_API void eos_client_close(eos_client *c);

#ifdef __cplusplus
}
#endif
#endif
