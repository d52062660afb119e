/* The management protocol's bytes, shared by the server and the client: the
 * frame codec ([u32 big-endian length][JSON payload], SPEC 2), the streaming
 * parser of inner requests (SPEC 3.1), and JSON documents made on the eos
 * allocator. No sockets, no TLS, no apps. */
#ifndef EOS_PROTO_H
#define EOS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "eos/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The layer's version string, static storage. */
EOS_API const char *eos_proto_version(void);

/* ---- Frame codec: [u32 big-endian payload length][JSON payload] ---- */

/* Default maximum payload: admits a 16 MiB component in the double JSON
 * encoding of a wasm_load (about 12x its size) with room to spare. */
#define EOS_PROTO_DEFAULT_MAX_FRAME ((size_t)256 << 20)
/* Hard ceiling: frames of 512 MiB and more would start with a byte >= 0x20
 * and could be mistaken for an HTTP request line (SPEC 2). */
#define EOS_PROTO_MAX_FRAME_LIMIT (((size_t)512 << 20) - 1)

/* Messages of the protocol (serde externally tagged). Unit messages are JSON
 * strings ("Ping"); byte messages are {"Data": [u8...]} / {"Error": [u8...]}. */
typedef enum eos_proto_msg_kind {
    EOS_PROTO_MSG_NONE = 0,
    EOS_PROTO_MSG_PING = 1,     /* "Ping"       request  */
    EOS_PROTO_MSG_PONG = 2,     /* "Pong"       response */
    EOS_PROTO_MSG_SHUTDOWN = 3, /* "Shutdown"   request (operator only) */
    EOS_PROTO_MSG_OK = 4,       /* "Ok"         response */
    EOS_PROTO_MSG_DATA = 5,     /* {"Data": [bytes]}  request or response (inner JSON) */
    EOS_PROTO_MSG_ERROR = 6     /* {"Error": [bytes]} response (UTF-8 message) */
} eos_proto_msg_kind;

/* The wire name of a kind ("Ping", "Data"...), static storage; "?" when unknown. */
EOS_API const char *eos_proto_msg_name(eos_proto_msg_kind kind);

/* Big-endian helpers for the length prefix. */
static inline void eos_proto_put_u32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline uint32_t eos_proto_get_u32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Builds a frame around an arbitrary payload. Borrows payload; *out is a new
 * buffer of *out_size bytes, free with eos_free(*out, *out_size).
 * EOS_ETOOBIG when size exceeds EOS_PROTO_MAX_FRAME_LIMIT, EOS_ENOMEM. */
EOS_API int eos_proto_frame_encode(const uint8_t *payload, size_t size, uint8_t **out,
                                 size_t *out_size);
/* Builds the frame of a message: unit kinds ignore bytes; DATA and ERROR
 * carry bytes (size bytes, borrowed) as a JSON array of numbers. *out is a new
 * buffer, free with eos_free(*out, *out_size). EOS_EINVAL for an unknown kind,
 * EOS_ETOOBIG, EOS_ENOMEM. */
EOS_API int eos_proto_msg_encode(eos_proto_msg_kind kind, const uint8_t *bytes, size_t size,
                               uint8_t **out, size_t *out_size);

/* Receives the bytes of a DATA or ERROR array as they are decoded, in
 * batches of up to 8 KiB (bytes borrowed for the call). A negative return
 * (an eos_err; detail in d) makes the frame invalid; EOS_ENOMEM is fatal. */
typedef int (*eos_proto_bytes_sink)(void *ud, const uint8_t *bytes, size_t size, eos_diag *d);

typedef struct eos_proto_decoder_config {
    size_t max_frame_size;   /* payload limit; 0 or above EOS_PROTO_MAX_FRAME_LIMIT = the limit */
    eos_proto_bytes_sink sink; /* NULL: bytes accumulate, see eos_proto_decoder_bytes() */
    void *sink_ud;
} eos_proto_decoder_config;

typedef struct eos_proto_decoder eos_proto_decoder;

/* Defaults: max_frame_size = EOS_PROTO_DEFAULT_MAX_FRAME, no sink. Borrows cfg. */
EOS_API void eos_proto_decoder_config_init(eos_proto_decoder_config *cfg);
/* Creates an incremental decoder (cfg copied; NULL = defaults). Free with
 * eos_proto_decoder_free(). 0 or EOS_ENOMEM. */
EOS_API int eos_proto_decoder_new(const eos_proto_decoder_config *cfg, eos_proto_decoder **out);
EOS_API void eos_proto_decoder_free(eos_proto_decoder *dec);
/* Feeds received bytes (borrowed). Never allocates the frame's length up
 * front: the payload streams through the JSON parser. Stops after each
 * complete frame; *out_used says how many bytes were consumed, call again
 * with the rest. Returns:
 *   > 0           a complete, valid message: its eos_proto_msg_kind;
 *   EOS_EAGAIN    all input consumed, the frame is not complete yet;
 *   other < 0     the frame just completed is invalid (EOS_EMALFORMED, EOS_ERANGE,
 *                 EOS_ELIMIT or a sink's error), detail in d; the stream
 *                 stays usable because the frame boundary was known;
 *   EOS_ETOOBIG / EOS_ENOMEM  fatal: the length prefix exceeds the maximum
 *                 (detected before the payload is read) or memory ran out;
 *                 eos_proto_decoder_dead() is then true and the connection
 *                 must be closed. */
EOS_API int eos_proto_decoder_feed(eos_proto_decoder *dec, const uint8_t *in, size_t size,
                                 size_t *out_used, eos_diag *d);
/* True once a fatal error happened. */
EOS_API int eos_proto_decoder_dead(const eos_proto_decoder *dec);
/* True while part of a frame has been received. */
EOS_API int eos_proto_decoder_in_frame(const eos_proto_decoder *dec);
/* The bytes of the last DATA/ERROR message when no sink is configured.
 * Borrowed from the decoder; valid until the next feed. */
EOS_API const uint8_t *eos_proto_decoder_bytes(const eos_proto_decoder *dec, size_t *out_size);
/* Payload size announced by the current or last frame's length prefix. */
EOS_API uint32_t eos_proto_decoder_frame_size(const eos_proto_decoder *dec);

/* ---- Inner requests (the JSON document inside "Data", SPEC 3.1) ---- */

typedef enum eos_proto_op {
    EOS_PROTO_OP_UNKNOWN = 0,
    EOS_PROTO_OP_WASM_LOAD,
    EOS_PROTO_OP_WASM_UNLOAD,
    EOS_PROTO_OP_WASM_LIST,
    EOS_PROTO_OP_WASM_CALL,
    EOS_PROTO_OP_CONFIG_MANIFEST,
    EOS_PROTO_OP_SECRET_PUT,    /* an app's secret, from a client that verified the server */
    EOS_PROTO_OP_SECRET_DELETE,
    EOS_PROTO_OP_SECRET_LIST    /* names and commitments only */
} eos_proto_op;

/* The wire name of an operation ("wasm_load"), static storage; "?" when unknown. */
EOS_API const char *eos_proto_op_name(eos_proto_op op);

/* A streaming parser of one inner request: it is fed the decoded Data bytes
 * (it is an eos_proto_bytes_sink) and keeps only what it needs: the operation,
 * the "name" field and, for wasm_load, the decoded component "bytes", never
 * a tree of the JSON. */
typedef struct eos_proto_request eos_proto_request;

/* max_component_size bounds the decoded "bytes" of a wasm_load; 0 = 64 MiB.
 * Free with eos_proto_request_free(). 0 or EOS_ENOMEM. */
EOS_API int eos_proto_request_new(size_t max_component_size, eos_proto_request **out);
EOS_API void eos_proto_request_free(eos_proto_request *req);
/* Feeds a chunk of the inner document (borrowed); matches eos_proto_bytes_sink
 * (pass the request as ud). An error is sticky and recorded in d. */
EOS_API int eos_proto_request_feed(void *req, const uint8_t *bytes, size_t size, eos_diag *d);
/* Ends the document: 0 when it is one complete, well-formed request, else
 * EOS_EMALFORMED / EOS_ERANGE / EOS_ELIMIT / EOS_ENOMEM with detail in d. */
EOS_API int eos_proto_request_finish(eos_proto_request *req, eos_diag *d);
/* Results, valid after a successful finish. Strings and bytes are borrowed
 * from req: name is NULL when absent; bytes are the decoded component of a
 * wasm_load (NULL when absent). */
EOS_API eos_proto_op eos_proto_request_op(const eos_proto_request *req);
EOS_API const char *eos_proto_request_name(const eos_proto_request *req);
/* The top-level "auth" string exactly as sent (*out_len bytes, NULs included,
 * NUL-terminated after them), or NULL when absent. Borrowed from req. */
EOS_API const char *eos_proto_request_auth(const eos_proto_request *req, size_t *out_len);
EOS_API const uint8_t *eos_proto_request_bytes(const eos_proto_request *req, size_t *out_size);
/* Takes the decoded "bytes" buffer out of req (no copy): *out_size bytes are
 * used in a buffer of *out_cap bytes; free with eos_free(ptr, *out_cap). NULL
 * when there are none. */
EOS_API uint8_t *eos_proto_request_take_bytes(eos_proto_request *req, size_t *out_size,
                                            size_t *out_cap);
/* The document without a wasm_load's "bytes", re-serialised as compact JSON
 * (other fields: route, env, params, auth...), for reading as a tree. Borrowed
 * from req, not NUL-terminated, valid until the next reset; "{}" when empty. */
EOS_API const char *eos_proto_request_json(const eos_proto_request *req, size_t *out_size);
/* Makes req ready for a new document, keeping its buffers. */
EOS_API void eos_proto_request_reset(eos_proto_request *req);

/* ---- JSON documents on the eos allocator ---- */

/* yajl's generator type, declared so this header needs no yajl headers. */
struct yajl_gen_t;

/* A yajl generator whose memory goes through the eos allocator hook. When the
 * hook fails, *oom_flag is set (yajl keeps running on libc memory so it
 * cannot crash): the caller checks it before eos_proto_json_finish(), which
 * does not see it, and answers EOS_ENOMEM. NULL when out of memory. oom_flag
 * is borrowed for the generator's lifetime; free with yajl_gen_free() or
 * eos_proto_json_finish(). */
EOS_API struct yajl_gen_t *eos_proto_json_gen_new(int *oom_flag);
/* Copies the generator's document into a NUL-terminated string (free with
 * eos_free(*out, *out_size + 1)) and frees the generator in every case. */
EOS_API int eos_proto_json_finish(struct yajl_gen_t *g, char **out, size_t *out_size);

#ifdef __cplusplus
}
#endif
#endif
