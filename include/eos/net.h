/* The server layer: the epoll event loop and workers, TLS connections, the
 * framed management protocol (its codec is shared with the client library),
 * and, next to it, HTTP. */
#ifndef EOS_NET_H
#define EOS_NET_H

#include <stddef.h>
#include <stdint.h>

#include "eos/common.h"
#include "eos/kv.h"
#include "eos/ratls.h"

#ifdef __cplusplus
extern "C" {
#endif

/* OpenSSL's context type, declared here so this header needs no OpenSSL headers. */
struct ssl_ctx_st;

/* The layer's version string, static storage. */
EOS_API const char *eos_net_version(void);

/* ---- Frame codec: [u32 big-endian payload length][JSON payload] ---- */

/* Default maximum payload: admits a 16 MiB component in the double JSON
 * encoding of a wasm_load (about 12x its size) with room to spare. */
#define EOS_NET_DEFAULT_MAX_FRAME ((size_t)256 << 20)
/* Hard ceiling: frames of 512 MiB and more would start with a byte >= 0x20
 * and could be mistaken for an HTTP request line (SPEC 2). */
#define EOS_NET_MAX_FRAME_LIMIT (((size_t)512 << 20) - 1)

/* Messages of the protocol (serde externally tagged). Unit messages are JSON
 * strings ("Ping"); byte messages are {"Data": [u8...]} / {"Error": [u8...]}. */
typedef enum eos_net_msg_kind {
    EOS_NET_MSG_NONE = 0,
    EOS_NET_MSG_PING = 1,     /* "Ping"       request  */
    EOS_NET_MSG_PONG = 2,     /* "Pong"       response */
    EOS_NET_MSG_SHUTDOWN = 3, /* "Shutdown"   request (operator only) */
    EOS_NET_MSG_OK = 4,       /* "Ok"         response */
    EOS_NET_MSG_DATA = 5,     /* {"Data": [bytes]}  request or response (inner JSON) */
    EOS_NET_MSG_ERROR = 6     /* {"Error": [bytes]} response (UTF-8 message) */
} eos_net_msg_kind;

/* The wire name of a kind ("Ping", "Data"...), static storage; "?" when unknown. */
EOS_API const char *eos_net_msg_name(eos_net_msg_kind kind);

/* Big-endian helpers for the length prefix. */
static inline void eos_net_put_u32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline uint32_t eos_net_get_u32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Builds a frame around an arbitrary payload. Borrows payload; *out is a new
 * buffer of *out_size bytes, free with eos_free(*out, *out_size).
 * EOS_ETOOBIG when size exceeds EOS_NET_MAX_FRAME_LIMIT, EOS_ENOMEM. */
EOS_API int eos_net_frame_encode(const uint8_t *payload, size_t size, uint8_t **out,
                                 size_t *out_size);
/* Builds the frame of a message: unit kinds ignore bytes; DATA and ERROR
 * carry bytes (size bytes, borrowed) as a JSON array of numbers. *out is a new
 * buffer, free with eos_free(*out, *out_size). EOS_EINVAL for an unknown kind,
 * EOS_ETOOBIG, EOS_ENOMEM. */
EOS_API int eos_net_msg_encode(eos_net_msg_kind kind, const uint8_t *bytes, size_t size,
                               uint8_t **out, size_t *out_size);

/* Receives the bytes of a DATA or ERROR array as they are decoded, in
 * batches of up to 8 KiB (bytes borrowed for the call). A negative return
 * (an eos_err; detail in d) makes the frame invalid; EOS_ENOMEM is fatal. */
typedef int (*eos_net_bytes_sink)(void *ud, const uint8_t *bytes, size_t size, eos_diag *d);

typedef struct eos_net_decoder_config {
    size_t max_frame_size;   /* payload limit; 0 or above EOS_NET_MAX_FRAME_LIMIT = the limit */
    eos_net_bytes_sink sink; /* NULL: bytes accumulate, see eos_net_decoder_bytes() */
    void *sink_ud;
} eos_net_decoder_config;

typedef struct eos_net_decoder eos_net_decoder;

/* Defaults: max_frame_size = EOS_NET_DEFAULT_MAX_FRAME, no sink. Borrows cfg. */
EOS_API void eos_net_decoder_config_init(eos_net_decoder_config *cfg);
/* Creates an incremental decoder (cfg copied; NULL = defaults). Free with
 * eos_net_decoder_free(). 0 or EOS_ENOMEM. */
EOS_API int eos_net_decoder_new(const eos_net_decoder_config *cfg, eos_net_decoder **out);
EOS_API void eos_net_decoder_free(eos_net_decoder *dec);
/* Feeds received bytes (borrowed). Never allocates the frame's length up
 * front: the payload streams through the JSON parser. Stops after each
 * complete frame; *out_used says how many bytes were consumed, call again
 * with the rest. Returns:
 *   > 0           a complete, valid message: its eos_net_msg_kind;
 *   EOS_EAGAIN    all input consumed, the frame is not complete yet;
 *   other < 0     the frame just completed is invalid (EOS_EMALFORMED, EOS_ERANGE,
 *                 EOS_ELIMIT or a sink's error), detail in d; the stream
 *                 stays usable because the frame boundary was known;
 *   EOS_ETOOBIG / EOS_ENOMEM  fatal: the length prefix exceeds the maximum
 *                 (detected before the payload is read) or memory ran out;
 *                 eos_net_decoder_dead() is then true and the connection
 *                 must be closed. */
EOS_API int eos_net_decoder_feed(eos_net_decoder *dec, const uint8_t *in, size_t size,
                                 size_t *out_used, eos_diag *d);
/* True once a fatal error happened. */
EOS_API int eos_net_decoder_dead(const eos_net_decoder *dec);
/* True while part of a frame has been received. */
EOS_API int eos_net_decoder_in_frame(const eos_net_decoder *dec);
/* The bytes of the last DATA/ERROR message when no sink is configured.
 * Borrowed from the decoder; valid until the next feed. */
EOS_API const uint8_t *eos_net_decoder_bytes(const eos_net_decoder *dec, size_t *out_size);
/* Payload size announced by the current or last frame's length prefix. */
EOS_API uint32_t eos_net_decoder_frame_size(const eos_net_decoder *dec);

/* ---- Inner requests (the JSON document inside "Data", SPEC 3.1) ---- */

typedef enum eos_net_op {
    EOS_NET_OP_UNKNOWN = 0,
    EOS_NET_OP_WASM_LOAD,
    EOS_NET_OP_WASM_UNLOAD,
    EOS_NET_OP_WASM_LIST,
    EOS_NET_OP_WASM_CALL,
    EOS_NET_OP_CONFIG_MANIFEST
} eos_net_op;

/* The wire name of an operation ("wasm_load"), static storage; "?" when unknown. */
EOS_API const char *eos_net_op_name(eos_net_op op);

/* A streaming parser of one inner request: it is fed the decoded Data bytes
 * (it is an eos_net_bytes_sink) and keeps only what it needs: the operation,
 * the "name" field and, for wasm_load, the decoded component "bytes", never
 * a tree of the JSON. */
typedef struct eos_net_request eos_net_request;

/* max_component_size bounds the decoded "bytes" of a wasm_load; 0 = 64 MiB.
 * Free with eos_net_request_free(). 0 or EOS_ENOMEM. */
EOS_API int eos_net_request_new(size_t max_component_size, eos_net_request **out);
EOS_API void eos_net_request_free(eos_net_request *req);
/* Feeds a chunk of the inner document (borrowed); matches eos_net_bytes_sink
 * (pass the request as ud). An error is sticky and recorded in d. */
EOS_API int eos_net_request_feed(void *req, const uint8_t *bytes, size_t size, eos_diag *d);
/* Ends the document: 0 when it is one complete, well-formed request, else
 * EOS_EMALFORMED / EOS_ERANGE / EOS_ELIMIT / EOS_ENOMEM with detail in d. */
EOS_API int eos_net_request_finish(eos_net_request *req, eos_diag *d);
/* Results, valid after a successful finish. Strings and bytes are borrowed
 * from req: name is NULL when absent; bytes are the decoded component of a
 * wasm_load (NULL when absent). */
EOS_API eos_net_op eos_net_request_op(const eos_net_request *req);
EOS_API const char *eos_net_request_name(const eos_net_request *req);
EOS_API const uint8_t *eos_net_request_bytes(const eos_net_request *req, size_t *out_size);
/* Takes the decoded "bytes" buffer out of req (no copy): *out_size bytes are
 * used in a buffer of *out_cap bytes; free with eos_free(ptr, *out_cap). NULL
 * when there are none. */
EOS_API uint8_t *eos_net_request_take_bytes(eos_net_request *req, size_t *out_size,
                                            size_t *out_cap);
/* The document without a wasm_load's "bytes", re-serialised as compact JSON
 * (other fields: route, env, params, auth...), for reading as a tree. Borrowed
 * from req, not NUL-terminated, valid until the next reset; "{}" when empty. */
EOS_API const char *eos_net_request_json(const eos_net_request *req, size_t *out_size);
/* Makes req ready for a new document, keeping its buffers. */
EOS_API void eos_net_request_reset(eos_net_request *req);

/* ---- TLS ---- */

/* Configures ctx as the server's TLS 1.3-only context (no certificate).
 * Borrows ctx. 0 or EOS_ETLS with detail in d. */
EOS_API int eos_net_tls_server_ctx_setup(struct ssl_ctx_st *ctx, eos_diag *d);
/* Installs a fresh ECDSA P-256 key and a self-signed certificate (CN
 * "enclave-os", valid from now for 30 days) into ctx. The default certificate
 * hook, replaced by RA-TLS certificates later. Borrows ctx. */
EOS_API int eos_net_tls_install_self_signed(void *ud, struct ssl_ctx_st *ctx, eos_diag *d);

/* Called once at start with the configured SSL_CTX to install certificates
 * (and any other callbacks). Borrows ctx; returns 0 or an eos_err with d. */
typedef int (*eos_net_tls_hook)(void *ud, struct ssl_ctx_st *ctx, eos_diag *d);

/* ---- The server ---- */

typedef struct eos_net_server_config {
    const char *listen;        /* "HOST:PORT" ("[::1]:8443" for IPv6); port 0 = any free port */
    int workers;               /* worker threads; 0 = one per online CPU */
    int app_threads;           /* threads running apps, loads and calls; 0 = 4 per CPU, >= 8 */
    size_t max_frame_size;     /* 0 = EOS_NET_DEFAULT_MAX_FRAME */
    unsigned idle_timeout_ms;  /* close connections idle this long; 0 = 60 s */
    unsigned drain_timeout_ms; /* on shutdown, how long in-flight work may take; 0 = 10 s */
    int dev;                   /* --dev: management open to loopback clients */
    const char *tee_name;      /* shown in logs and used for messages ("sim") */
    eos_net_tls_hook tls_hook; /* NULL = eos_net_tls_install_self_signed */
    void *tls_hook_ud;
    eos_ratls_server *ratls;    /* borrowed: certificates follow loads; NULL = none */
    eos_kv *kv;                 /* borrowed: apps' storage (and --persist-apps); NULL = none */
    const char *token;          /* management bearer token ("auth"); NULL = none */
    int management_ca;          /* 1: the TLS hook set up client certificates of a management CA */
    int persist_apps;           /* keep loaded apps sealed in kv and reload them at start */
    size_t max_body_size;       /* HTTP request body limit; 0 = 32 MiB */
    size_t max_header_size;     /* HTTP request head limit; 0 = 64 KiB */
    unsigned header_timeout_ms; /* a request head must arrive within this; 0 = 10 s */
} eos_net_server_config;

typedef struct eos_net_server eos_net_server;

/* Fills the defaults above. Borrows cfg. */
EOS_API void eos_net_server_config_init(eos_net_server_config *cfg);
/* Creates the TLS context and binds and listens on cfg->listen; no thread
 * starts yet. cfg and its strings are copied. Free with eos_net_server_free().
 * EOS_EINVAL (bad address), EOS_ESYS (bind/listen), EOS_ETLS, EOS_ENOMEM. */
EOS_API int eos_net_server_new(const eos_net_server_config *cfg, eos_net_server **out, eos_diag *d);
/* The bound TCP port (useful with port 0). */
EOS_API int eos_net_server_port(const eos_net_server *srv);
/* The configuration in effect, with every default filled in (worker and app
 * thread counts, limits). Borrowed from the server. */
EOS_API const eos_net_server_config *eos_net_server_config_get(const eos_net_server *srv);
/* Runs the workers and blocks until eos_net_server_stop() (or an authorised
 * "Shutdown") and a graceful drain: stop accepting, finish in-flight
 * requests, flush responses, close. 0, or an eos_err with d. */
EOS_API int eos_net_server_run(eos_net_server *srv, eos_diag *d);
/* Asks a running server to shut down. Async-signal-safe and thread-safe. */
EOS_API void eos_net_server_stop(eos_net_server *srv);
/* Loads an app as a wasm_load would (used to reload persisted apps); borrows
 * bytes. 0 or an eos_err with d. */
EOS_API int eos_net_server_load(eos_net_server *srv, const char *name, const uint8_t *bytes,
                                size_t size, const char *route, const char *hostname,
                                const char *env_json, eos_diag *d);
/* With persist_apps: loads the apps kept in the store again (before run).
 * An app that cannot be loaded is logged and skipped. 0 or the store's error. */
EOS_API int eos_net_server_restore_apps(eos_net_server *srv, eos_diag *d);
/* Frees a server that is not running (after run returned, or never run). */
EOS_API void eos_net_server_free(eos_net_server *srv);

#ifdef __cplusplus
}
#endif
#endif
