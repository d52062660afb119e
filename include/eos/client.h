/* The client library: connect to an enclave-os server over TLS and speak the
 * framed management protocol; attestation verification plugs in through the
 * verify callback. */
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
/* Sends close_notify, closes the socket and frees c. NULL is allowed. */
EOS_API void eos_client_close(eos_client *c);

#ifdef __cplusplus
}
#endif
#endif
