/* HTTP requests and responses for enclave-os apps (wasi:http incoming-handler).
 * A handler receives the request and an eos_response_out; it answers either in one
 * call (eos_respond, eos_respond_text) or by streaming (eos_response_start, then
 * eos_response_write chunks, then eos_response_finish). Everything a request hands
 * out is valid until the handler returns. */
#ifndef EOS_HTTP_H
#define EOS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eos_request eos_request;           /* opaque, owned by the SDK */
typedef struct eos_response_out eos_response_out; /* opaque, owned by the SDK */
typedef void (*eos_http_handler_fn)(eos_request *req, eos_response_out *out);

/* Defines the component's wasi:http/incoming-handler export and routes every request
 * to `fn`. Use it once, at file scope, in one source file of the app. */
#define EOS_HTTP_HANDLER(fn)                                                                       \
    __attribute__((export_name("wasi:http/incoming-handler@0.2.12#handle"))) void                  \
    eos_http_export_handle(int32_t eos_req_, int32_t eos_out_)                                     \
    {                                                                                              \
        eos_http_dispatch(eos_req_, eos_out_, (fn));                                               \
    }

/* Runs `fn` for the request handle and response-outparam handle the host passed (takes
 * ownership of both). Answers 500 when `fn` returns without responding, and finishes a
 * started response that `fn` left open. Called by EOS_HTTP_HANDLER. */
void eos_http_dispatch(int32_t request, int32_t outparam, eos_http_handler_fn fn);

/* The request method in upper case ("GET", "POST", ... or the extension method as
 * sent). Borrowed from the request. */
const char *eos_request_method(eos_request *req);
/* The path without the query, always starting with "/" (the route prefix the server
 * matched is removed; it is in header x-forwarded-prefix). Borrowed from the request. */
const char *eos_request_path(eos_request *req);
/* The query after '?', or "" when there is none. Borrowed from the request. */
const char *eos_request_query(eos_request *req);
/* The path and query as the host gave them. Borrowed from the request. */
const char *eos_request_path_with_query(eos_request *req);
/* The authority (host[:port]) the client addressed, or "". Borrowed from the request. */
const char *eos_request_authority(eos_request *req);
/* The first value of header `name` (case-insensitive), NUL-terminated, with its size in
 * *out_size when out_size is not NULL; NULL when absent. Borrowed from the request. */
const char *eos_request_header(eos_request *req, const char *name, size_t *out_size);
/* Number of request header lines, and the i-th one (names in lower case). The strings
 * are borrowed from the request. Returns EOS_APP_EINVAL when i is out of range. */
size_t eos_request_header_count(eos_request *req);
int eos_request_header_at(eos_request *req, size_t i, const char **out_name, const char **out_value,
                          size_t *out_value_size);

/* Reads the next chunk of the request body into buf (at most cap bytes; blocks until
 * at least one byte or the end). *out_size is 0 at the end of the body. */
int eos_request_read(eos_request *req, void *buf, size_t cap, size_t *out_size);
/* Reads the whole remaining body into a new buffer (NUL-terminated for convenience,
 * the NUL not counted in *out_size); EOS_APP_ETOOBIG when it exceeds max_size.
 * Free *out_body with free(). */
int eos_request_read_all(eos_request *req, size_t max_size, void **out_body, size_t *out_size);

/* Adds a response header (before the response starts; borrows both strings).
 * EOS_APP_EINVAL when the host refuses the name or value. */
int eos_response_header(eos_response_out *out, const char *name, const char *value);
/* Sends the status and headers; the body follows with eos_response_write. */
int eos_response_start(eos_response_out *out, int status);
/* Writes a chunk of the body (any size; borrows data). Starts the response with 200 if
 * it has not started. */
int eos_response_write(eos_response_out *out, const void *data, size_t size);
/* Ends the body. Further writes return EOS_APP_ESTATE. */
int eos_response_finish(eos_response_out *out);
/* The whole response at once: status, Content-Type (NULL for none) and body. */
int eos_respond(eos_response_out *out, int status, const char *content_type, const void *body,
                size_t size);
/* A text/plain; charset=utf-8 response with a NUL-terminated body. */
int eos_respond_text(eos_response_out *out, int status, const char *text);

#ifdef __cplusplus
}
#endif

#endif
