/* The server layer: the epoll event loop and workers, connections over a
 * transport (TLS, or plain TCP), and the protocols spoken on them (the
 * framed management protocol, whose codec is eos/proto.h, and HTTP/1.1).
 * Requests for apps go to the apps layer (eos/apps.h) on app threads. */
#ifndef EOS_NET_H
#define EOS_NET_H

#include <stddef.h>
#include <stdint.h>

#include "eos/apps.h"
#include "eos/common.h"
#include "eos/console.h"
#include "eos/ratls.h"

#ifdef __cplusplus
extern "C" {
#endif

/* OpenSSL's context type, declared here so this header needs no OpenSSL headers. */
struct ssl_ctx_st;

/* The layer's version string, static storage. */
EOS_API const char *eos_net_version(void);

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
    size_t max_frame_size;     /* 0 = EOS_PROTO_DEFAULT_MAX_FRAME */
    unsigned idle_timeout_ms;  /* close connections idle this long; 0 = 60 s */
    unsigned drain_timeout_ms; /* on shutdown, how long in-flight work may take; 0 = 10 s */
    int dev;                   /* --dev: management open to loopback clients */
    const char *tee_name;      /* shown in logs and used for messages ("sim") */
    eos_net_tls_hook tls_hook; /* NULL = eos_net_tls_install_self_signed */
    void *tls_hook_ud;
    eos_ratls_server *ratls;    /* borrowed: the manifest and certificate pages; NULL = none */
    eos_apps *apps;             /* borrowed: the apps served and managed; NULL = an empty table */
    int management_ca;          /* 1: the TLS hook set up client certificates of a management CA */
    int plain_tcp;              /* serve plain TCP, no TLS (a terminating proxy on this host) */
    size_t max_body_size;       /* HTTP request body limit; 0 = 32 MiB */
    size_t max_header_size;     /* HTTP request head limit; 0 = 64 KiB */
    unsigned header_timeout_ms; /* a request head must arrive within this; 0 = 10 s */
    int console_off;            /* 1: no web console at /.well-known/enclave-os/console/ */
    eos_console_log *console_log; /* borrowed: the console's live log; NULL = none */
    int console_test_tamper;      /* tests only: serve a manifest with one leaf altered */
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
/* Frees a server that is not running (after run returned, or never run). */
EOS_API void eos_net_server_free(eos_net_server *srv);

#ifdef __cplusplus
}
#endif
#endif
