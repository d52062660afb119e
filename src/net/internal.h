/* Private declarations of the net layer: yajl glue, the TLS connection
 * helpers and the pieces the server's files share. */
#ifndef EOS_NET_INTERNAL_H
#define EOS_NET_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include <openssl/ssl.h>
#include <yajl/yajl_parse.h>

#include "eos/net.h"

/* A yajl parser whose memory goes through the eos allocator hook. When the
 * hook fails, *oom_flag is set (yajl keeps running on libc memory so it
 * cannot crash) and the caller must fail with EOS_ENOMEM after yajl returns.
 * NULL when out of memory. Free with yajl_free(). cb and oom_flag are
 * borrowed for the parser's lifetime. */
yajl_handle eos_net__yajl_new(const yajl_callbacks *cb, void *cb_ctx, int *oom_flag);
/* Records yajl's last error as an EOS_EMALFORMED diag at offset. Borrows all. */
void eos_net__yajl_error(yajl_handle h, const uint8_t *chunk, size_t chunk_size, int64_t offset,
                         eos_diag *d);

#define EOS_NET__READ_CHUNK 16384
/* Stop reading a connection's requests while this much output waits. */
#define EOS_NET__OUT_HIGH_WATER ((size_t)1 << 20)
/* Bytes a connection may read per wake-up before others get their turn. */
#define EOS_NET__READ_BUDGET ((size_t)256 << 10)

typedef struct eos_net__worker eos_net__worker;
typedef struct eos_net__conn eos_net__conn;

struct eos_net_server {
    eos_net_server_config cfg; /* strings point into the copies below */
    char *listen_copy;
    char *tee_copy;
    SSL_CTX *ssl_ctx;
    int listen_fd;
    int stop_fd; /* eventfd: becomes readable once a stop is requested */
    int port;
    atomic_int stopping;
    int nworkers;
    eos_net__worker *workers;
};

typedef enum eos_net__conn_state {
    CONN_HANDSHAKE, /* TLS handshake in progress */
    CONN_SNIFF,     /* waiting for the first bytes to pick a protocol */
    CONN_FRAMED,    /* the framed management protocol */
    CONN_HTTP       /* HTTP/1.1 */
} eos_net__conn_state;

struct eos_net__conn {
    eos_net__worker *w;
    int fd;
    SSL *ssl;
    eos_net__conn_state state;
    int loopback;  /* peer is 127.0.0.0/8 or ::1 */
    char peer[64]; /* "addr:port" for logs */
    uint8_t sniff[4];
    size_t sniff_len;
    eos_net_decoder *dec;
    eos_net_request *req;
    uint8_t *out; /* pending output (plaintext), written from out_off */
    size_t out_off;
    size_t out_len;
    size_t out_cap;
    int write_retry_len;   /* length of the SSL_write to repeat after WANT_*, 0 = none */
    int read_wants_write;  /* SSL_read returned WANT_WRITE */
    int write_wants_read;  /* SSL_write returned WANT_READ */
    int hs_wants_write;    /* handshake needs the socket writable */
    int close_after_flush; /* no more input; close once output is written */
    int dead;
    int ssl_fatal;   /* the TLS session failed: no close_notify may be sent */
    unsigned events; /* current epoll interest */
    uint64_t last_active_ns;
    eos_net__conn *prev, *next; /* the worker's list, least recently active first */
    eos_net__conn *ready_next;  /* the worker's ready list (data buffered inside TLS) */
    int in_ready;
    eos_net__conn *grave_next; /* the worker's list of closed connections to free */
};

struct eos_net__worker {
    eos_net_server *srv;
    int id;
    int epfd;
    pthread_t thread;
    int started;
    int listening;             /* the listening socket is in this worker's epoll */
    uint64_t accept_resume_ns; /* accept paused after EMFILE until then */
    int draining;
    uint64_t drain_deadline_ns;
    eos_net__conn *head, *tail;
    eos_net__conn *ready;
    eos_net__conn *graveyard;
    long nconns;
    uint8_t rbuf[EOS_NET__READ_CHUNK];
};

/* worker.c */
void *eos_net__worker_main(void *arg);
void eos_net__conn_touch(eos_net__conn *c);
void eos_net__mark_ready(eos_net__conn *c);
/* Frees the connections closed since the last call. */
void eos_net__worker_reap(eos_net__worker *w);

/* conn.c: the TLS connection state machine. */
int eos_net__conn_open(eos_net__worker *w, int fd, const struct sockaddr *peer, socklen_t peer_len);
void eos_net__conn_event(eos_net__conn *c, unsigned events);
void eos_net__conn_close(eos_net__conn *c, const char *why);
/* Appends size bytes (borrowed) to the output; EOS_ENOMEM. */
int eos_net__conn_queue(eos_net__conn *c, const uint8_t *bytes, size_t size);
/* True when nothing is in flight: no partial frame, no pending output. */
int eos_net__conn_quiescent(const eos_net__conn *c);

/* proto.c: what the bytes after the handshake mean. */
void eos_net__proto_input(eos_net__conn *c, const uint8_t *data, size_t size);
void eos_net__proto_free(eos_net__conn *c);

/* tls.c */
int eos_net__tls_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                             const unsigned char *in, unsigned int inlen, void *arg);

#endif
