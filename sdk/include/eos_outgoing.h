/* Outgoing HTTP calls for enclave-os apps (wasi:http/outgoing-handler). A call is
 * built (method, URL, headers, timeouts), sent, optionally given a request body
 * in chunks, and then its response is read: status, headers and the body in
 * chunks, so neither body has to fit in memory. Several calls may be in flight at
 * once: the host moves all of them while the app waits on any one. */
#ifndef EOS_OUTGOING_H
#define EOS_OUTGOING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eos_outgoing eos_outgoing; /* opaque; free with eos_outgoing_free() */

/* Starts building a call: method ("GET", "POST", ... or any token) and an absolute
 * URL "http[s]://host[:port][/path][?query]" (both borrowed). The destination
 * must be on the app's allow-list or the call fails with
 * EOS_HTTP_ERR_REQUEST_DENIED. Free *out with eos_outgoing_free(). */
int eos_outgoing_new(const char *method, const char *url, eos_outgoing **out);
/* Adds a request header (before eos_outgoing_send; borrows both strings).
 * EOS_APP_EINVAL when the host refuses the name or value (e.g. "host"). */
int eos_outgoing_header(eos_outgoing *c, const char *name, const char *value);
/* Timeouts in milliseconds for connecting (TLS included), for the first byte of
 * the response once the request is sent, and between bytes; 0 keeps the host's
 * default. A timeout ends the call with EOS_HTTP_ERR_CONNECTION_TIMEOUT or
 * EOS_HTTP_ERR_CONNECTION_READ_TIMEOUT. */
int eos_outgoing_timeouts(eos_outgoing *c, uint32_t connect_ms, uint32_t first_byte_ms,
                          uint32_t between_bytes_ms);
/* Sends the call. With has_body the request body follows through
 * eos_outgoing_write and ends with eos_outgoing_end_body (give a Content-Length
 * header to send it unchunked). EOS_APP_EHTTP when the host refuses the call at
 * once (see eos_outgoing_error). */
int eos_outgoing_send(eos_outgoing *c, bool has_body);
/* Writes a chunk of the request body (any size; borrows data). It blocks only as
 * long as the host's buffer toward the peer is full. */
int eos_outgoing_write(eos_outgoing *c, const void *data, size_t size);
/* Ends the request body. */
int eos_outgoing_end_body(eos_outgoing *c);
/* Waits for the response head; *out_status gets its status code. EOS_APP_EHTTP
 * when the call failed (eos_outgoing_error says how). Calls eos_outgoing_end_body
 * first if the body was left open. */
int eos_outgoing_response(eos_outgoing *c, int *out_status);
/* The first value of response header `name` (case-insensitive), NUL-terminated,
 * its size in *out_size when not NULL; NULL when absent. Borrowed from the call. */
const char *eos_outgoing_response_header(eos_outgoing *c, const char *name, size_t *out_size);
/* Number of response header lines and the i-th one (names in lower case); the
 * strings are borrowed from the call. EOS_APP_EINVAL when i is out of range. */
size_t eos_outgoing_response_header_count(eos_outgoing *c);
int eos_outgoing_response_header_at(eos_outgoing *c, size_t i, const char **out_name,
                                    const char **out_value, size_t *out_value_size);
/* Reads the next chunk of the response body into buf (at most cap bytes; blocks
 * until at least one byte or the end); *out_size is 0 at the end. A body the peer
 * cuts short or that breaks a limit gives EOS_APP_EHTTP with the error code. */
int eos_outgoing_read(eos_outgoing *c, void *buf, size_t cap, size_t *out_size);
/* Reads the rest of the response body into a new buffer (NUL-terminated, the NUL
 * not counted); EOS_APP_ETOOBIG beyond max_size. Free *out_body with free(). */
int eos_outgoing_read_all(eos_outgoing *c, size_t max_size, void **out_body, size_t *out_size);
/* The wasi:http error-code case of a call that failed (EOS_HTTP_ERR_*), or
 * EOS_HTTP_ERR_NONE. */
int eos_outgoing_error(const eos_outgoing *c);
/* Releases the call and everything it holds; an unfinished transfer is dropped.
 * NULL is accepted. */
void eos_outgoing_free(eos_outgoing *c);

/* One call in one go: method and URL as for eos_outgoing_new, an optional request
 * body (NULL/0 for none, borrowed) and content type; the response body, at most
 * max_size bytes, in *out_body (free with free()). The call is returned in *out
 * for its status, headers and error (free with eos_outgoing_free()) even when it
 * failed. */
int eos_fetch(const char *method, const char *url, const char *content_type, const void *body,
              size_t size, size_t max_size, eos_outgoing **out, void **out_body, size_t *out_size);

/* The cases of wasi:http's error-code, in its order. */
#define EOS_HTTP_ERRORS(X)                                                                         \
    X(DNS_TIMEOUT, "DNS-timeout")                                                                  \
    X(DNS_ERROR, "DNS-error")                                                                      \
    X(DESTINATION_NOT_FOUND, "destination-not-found")                                              \
    X(DESTINATION_UNAVAILABLE, "destination-unavailable")                                          \
    X(DESTINATION_IP_PROHIBITED, "destination-IP-prohibited")                                      \
    X(DESTINATION_IP_UNROUTABLE, "destination-IP-unroutable")                                      \
    X(CONNECTION_REFUSED, "connection-refused")                                                    \
    X(CONNECTION_TERMINATED, "connection-terminated")                                              \
    X(CONNECTION_TIMEOUT, "connection-timeout")                                                    \
    X(CONNECTION_READ_TIMEOUT, "connection-read-timeout")                                          \
    X(CONNECTION_WRITE_TIMEOUT, "connection-write-timeout")                                        \
    X(CONNECTION_LIMIT_REACHED, "connection-limit-reached")                                        \
    X(TLS_PROTOCOL_ERROR, "TLS-protocol-error")                                                    \
    X(TLS_CERTIFICATE_ERROR, "TLS-certificate-error")                                              \
    X(TLS_ALERT_RECEIVED, "TLS-alert-received")                                                    \
    X(REQUEST_DENIED, "HTTP-request-denied")                                                       \
    X(REQUEST_LENGTH_REQUIRED, "HTTP-request-length-required")                                     \
    X(REQUEST_BODY_SIZE, "HTTP-request-body-size")                                                 \
    X(REQUEST_METHOD_INVALID, "HTTP-request-method-invalid")                                       \
    X(REQUEST_URI_INVALID, "HTTP-request-URI-invalid")                                             \
    X(REQUEST_URI_TOO_LONG, "HTTP-request-URI-too-long")                                           \
    X(REQUEST_HEADER_SECTION_SIZE, "HTTP-request-header-section-size")                             \
    X(REQUEST_HEADER_SIZE, "HTTP-request-header-size")                                             \
    X(REQUEST_TRAILER_SECTION_SIZE, "HTTP-request-trailer-section-size")                           \
    X(REQUEST_TRAILER_SIZE, "HTTP-request-trailer-size")                                           \
    X(RESPONSE_INCOMPLETE, "HTTP-response-incomplete")                                             \
    X(RESPONSE_HEADER_SECTION_SIZE, "HTTP-response-header-section-size")                           \
    X(RESPONSE_HEADER_SIZE, "HTTP-response-header-size")                                           \
    X(RESPONSE_BODY_SIZE, "HTTP-response-body-size")                                               \
    X(RESPONSE_TRAILER_SECTION_SIZE, "HTTP-response-trailer-section-size")                         \
    X(RESPONSE_TRAILER_SIZE, "HTTP-response-trailer-size")                                         \
    X(RESPONSE_TRANSFER_CODING, "HTTP-response-transfer-coding")                                   \
    X(RESPONSE_CONTENT_CODING, "HTTP-response-content-coding")                                     \
    X(RESPONSE_TIMEOUT, "HTTP-response-timeout")                                                   \
    X(UPGRADE_FAILED, "HTTP-upgrade-failed")                                                       \
    X(PROTOCOL_ERROR, "HTTP-protocol-error")                                                       \
    X(LOOP_DETECTED, "loop-detected")                                                              \
    X(CONFIGURATION_ERROR, "configuration-error")                                                  \
    X(INTERNAL_ERROR, "internal-error")

enum eos_http_err {
    EOS_HTTP_ERR_NONE = -1,
#define EOS_HTTP__ENUM(name, text) EOS_HTTP_ERR_##name,
    EOS_HTTP_ERRORS(EOS_HTTP__ENUM)
#undef EOS_HTTP__ENUM
};

/* The error-code case's WIT name ("connection-refused", ...), "none" for
 * EOS_HTTP_ERR_NONE; static. */
const char *eos_http_error_name(int code);

#ifdef __cplusplus
}
#endif

#endif
