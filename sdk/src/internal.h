/* Private to the SDK: the host functions it imports, declared by hand with their
 * canonical ABI lowering (component-model design/mvp/CanonicalABI.md: flattened
 * parameters, results beyond one core value written to a caller-supplied return
 * area), plus small helpers shared by the SDK's files. */
#ifndef EOS_SDK_INTERNAL_H
#define EOS_SDK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "eos_app.h"

/* Every WASI 0.2 import names this patch version; hosts accept any 0.2.x. */
#define EOS__WASI(iface)       iface "@0.2.12"
#define EOS__KV(iface)         "wasi:keyvalue/" iface "@0.2.0-draft2"
#define EOS__IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
/* Most imports are wasi:http/types' resources: "[constructor]R", "[method]R.m",
 * "[static]R.f", "[resource-drop]R". */
#define EOS__HTTP(name) EOS__IMPORT(EOS__WASI("wasi:http/types"), name)

/* Resource handles are i32 indices into the instance's handle table. */
typedef int32_t eos__handle;

/* A string or list<u8> as the canonical ABI lays it out: pointer then length. */
typedef struct {
    uint8_t *ptr;
    size_t len;
} eos__bytes;

/* wasi:io/error, wasi:io/streams */
EOS__IMPORT(EOS__WASI("wasi:io/error"), "[resource-drop]error")
void eos__io_error_drop(eos__handle err);
EOS__IMPORT(EOS__WASI("wasi:io/error"), "[method]error.to-debug-string")
void eos__io_error_to_debug_string(eos__handle err, void *ret); /* string @0 */

/* result<list<u8>, stream-error>: tag u8 @0; ok list @4/@8; err: stream-error tag @4
 * (0 = last-operation-failed(own<error>) with the handle @8, 1 = closed). */
EOS__IMPORT(EOS__WASI("wasi:io/streams"), "[method]input-stream.blocking-read")
void eos__in_blocking_read(eos__handle s, int64_t len, void *ret);
EOS__IMPORT(EOS__WASI("wasi:io/streams"), "[resource-drop]input-stream")
void eos__in_drop(eos__handle s);
/* result<u64, stream-error>: tag @0, u64 @8 or stream-error tag @8 and handle @12. */
EOS__IMPORT(EOS__WASI("wasi:io/streams"), "[method]output-stream.check-write")
void eos__out_check_write(eos__handle s, void *ret);
/* result<_, stream-error>: tag @0, stream-error tag @4, handle @8. */
EOS__IMPORT(EOS__WASI("wasi:io/streams"), "[method]output-stream.write")
void eos__out_write(eos__handle s, const void *ptr, size_t len, void *ret);
EOS__IMPORT(EOS__WASI("wasi:io/streams"), "[method]output-stream.blocking-flush")
void eos__out_blocking_flush(eos__handle s, void *ret);
EOS__IMPORT(EOS__WASI("wasi:io/streams"), "[resource-drop]output-stream")
void eos__out_drop(eos__handle s);

/* wasi:http/types */
EOS__HTTP("[constructor]fields")
eos__handle eos__fields_new(void);
/* result<_, header-error>: tag u8 @0, header-error case u8 @1. */
EOS__HTTP("[method]fields.append")
void eos__fields_append(eos__handle f, const char *name, size_t name_len, const void *value,
                        size_t value_len, void *ret);
/* list<tuple<string, list<u8>>> @0/@4; each entry 16 bytes: name ptr, len, value ptr, len. */
EOS__HTTP("[method]fields.entries")
void eos__fields_entries(eos__handle f, void *ret);
EOS__HTTP("[resource-drop]fields")
void eos__fields_drop(eos__handle f);
/* method: tag u8 @0 (get, head, post, put, delete, connect, options, trace, patch,
 * other(string)); other's string @4/@8. */
EOS__HTTP("[method]incoming-request.method")
void eos__req_method(eos__handle r, void *ret);
/* option<string>: tag u8 @0, string @4/@8. */
EOS__HTTP("[method]incoming-request.path-with-query")
void eos__req_path_with_query(eos__handle r, void *ret);
EOS__HTTP("[method]incoming-request.authority")
void eos__req_authority(eos__handle r, void *ret);
EOS__HTTP("[method]incoming-request.headers")
eos__handle eos__req_headers(eos__handle r);
/* result<own<incoming-body>>: tag u8 @0, handle @4. */
EOS__HTTP("[method]incoming-request.consume")
void eos__req_consume(eos__handle r, void *ret);
EOS__HTTP("[resource-drop]incoming-request")
void eos__req_drop(eos__handle r);
EOS__HTTP("[method]incoming-body.stream")
void eos__in_body_stream(eos__handle b, void *ret);
EOS__HTTP("[static]incoming-body.finish")
eos__handle eos__in_body_finish(eos__handle b);
EOS__HTTP("[resource-drop]future-trailers")
void eos__future_trailers_drop(eos__handle t);
EOS__HTTP("[constructor]outgoing-response")
eos__handle eos__resp_new(eos__handle headers);
/* result (no payloads) flattens to one i32 and is returned directly: 0 = ok. */
EOS__HTTP("[method]outgoing-response.set-status-code")
int32_t eos__resp_set_status(eos__handle r, int32_t status);
EOS__HTTP("[method]outgoing-response.body")
void eos__resp_body(eos__handle r, void *ret);
EOS__HTTP("[resource-drop]outgoing-response")
void eos__resp_drop(eos__handle r);
EOS__HTTP("[method]outgoing-body.write")
void eos__out_body_write(eos__handle b, void *ret);
/* (body, option<trailers> as tag + handle, return area) -> result<_, error-code>:
 * tag @0, error-code @8 (aligned to 8 by its option<u64> payloads; 40 bytes). */
EOS__HTTP("[static]outgoing-body.finish")
void eos__out_body_finish(eos__handle b, int32_t has_trailers, eos__handle trailers, void *ret);
/* result<own<outgoing-response>, error-code> flattens to eight values: the tag, then
 * the join of the ok handle and error-code's flattening (tag, then its payloads'
 * join: i32, i64, 4 x i32). */
EOS__HTTP("[static]response-outparam.set")
void eos__outparam_set(eos__handle param, int32_t is_err, int32_t v0, int32_t v1, int64_t v2,
                       int32_t v3, int32_t v4, int32_t v5, int32_t v6);

/* wasi:http outgoing calls. Results without payloads flatten to one i32 (0 = ok). */
EOS__HTTP("[constructor]outgoing-request")
eos__handle eos__oreq_new(eos__handle headers);
EOS__HTTP("[resource-drop]outgoing-request")
void eos__oreq_drop(eos__handle r);
/* method: tag, then other's string. */
EOS__HTTP("[method]outgoing-request.set-method")
int32_t eos__oreq_set_method(eos__handle r, int32_t tag, const char *other, size_t other_len);
/* option<scheme>: option tag, scheme tag (HTTP, HTTPS, other), other's string. */
EOS__HTTP("[method]outgoing-request.set-scheme")
int32_t eos__oreq_set_scheme(eos__handle r, int32_t some, int32_t tag, const char *other,
                             size_t other_len);
EOS__HTTP("[method]outgoing-request.set-authority")
int32_t eos__oreq_set_authority(eos__handle r, int32_t some, const char *s, size_t len);
EOS__HTTP("[method]outgoing-request.set-path-with-query")
int32_t eos__oreq_set_path(eos__handle r, int32_t some, const char *s, size_t len);
/* result<own<outgoing-body>>: tag u8 @0, handle @4. */
EOS__HTTP("[method]outgoing-request.body")
void eos__oreq_body(eos__handle r, void *ret);
EOS__HTTP("[constructor]request-options")
eos__handle eos__opts_new(void);
EOS__HTTP("[resource-drop]request-options")
void eos__opts_drop(eos__handle o);
/* option<duration> (ns): tag, u64. */
EOS__HTTP("[method]request-options.set-connect-timeout")
int32_t eos__opts_set_connect(eos__handle o, int32_t some, int64_t ns);
EOS__HTTP("[method]request-options.set-first-byte-timeout")
int32_t eos__opts_set_first_byte(eos__handle o, int32_t some, int64_t ns);
EOS__HTTP("[method]request-options.set-between-bytes-timeout")
int32_t eos__opts_set_between(eos__handle o, int32_t some, int64_t ns);
EOS__HTTP("[resource-drop]outgoing-body")
void eos__out_body_drop(eos__handle b);
EOS__HTTP("[method]future-incoming-response.subscribe")
eos__handle eos__fut_subscribe(eos__handle f);
/* option<result<result<own<incoming-response>, error-code>>>: option tag @0, outer
 * result tag @8, inner result tag @16, then the handle or the error-code @24
 * (error-code: case u8 @0, payload @8; 32 bytes, aligned to 8). 56 bytes. */
EOS__HTTP("[method]future-incoming-response.get")
void eos__fut_get(eos__handle f, void *ret);
EOS__HTTP("[resource-drop]future-incoming-response")
void eos__fut_drop(eos__handle f);
EOS__HTTP("[method]incoming-response.status")
int32_t eos__iresp_status(eos__handle r);
EOS__HTTP("[method]incoming-response.headers")
eos__handle eos__iresp_headers(eos__handle r);
/* result<own<incoming-body>>: tag u8 @0, handle @4. */
EOS__HTTP("[method]incoming-response.consume")
void eos__iresp_consume(eos__handle r, void *ret);
EOS__HTTP("[resource-drop]incoming-response")
void eos__iresp_drop(eos__handle r);
/* option<error-code>: tag @0, error-code @8; 40 bytes. */
EOS__HTTP("http-error-code")
void eos__http_error_code(eos__handle err, void *ret);
/* (request, option<request-options> as tag + handle, return area) ->
 * result<own<future-incoming-response>, error-code>: tag @0, handle or error-code @8. */
EOS__IMPORT(EOS__WASI("wasi:http/outgoing-handler"), "handle")
void eos__outgoing_handle(eos__handle req, int32_t has_opts, eos__handle opts, void *ret);
EOS__IMPORT(EOS__WASI("wasi:io/poll"), "[method]pollable.block")
void eos__pollable_block(eos__handle p);
EOS__IMPORT(EOS__WASI("wasi:io/poll"), "[resource-drop]pollable")
void eos__pollable_drop(eos__handle p);

/* wasi:keyvalue (0.2.0-draft2). store error: tag u8 (no-such-store, access-denied,
 * other(string)), string @+4/@+8; 12 bytes, aligned to 4. */
EOS__IMPORT(EOS__KV("store"), "open")
void eos__kv_open(const char *id, size_t id_len, void *ret);
EOS__IMPORT(EOS__KV("store"), "[resource-drop]bucket")
void eos__kv_bucket_drop(eos__handle b);
/* result<option<list<u8>>, error>: tag @0; ok: option tag @4, list @8/@12; err @4. */
EOS__IMPORT(EOS__KV("store"), "[method]bucket.get")
void eos__kv_get(eos__handle b, const char *key, size_t key_len, void *ret);
EOS__IMPORT(EOS__KV("store"), "[method]bucket.set")
void eos__kv_set(eos__handle b, const char *key, size_t key_len, const void *value,
                 size_t value_len, void *ret);
EOS__IMPORT(EOS__KV("store"), "[method]bucket.delete")
void eos__kv_delete(eos__handle b, const char *key, size_t key_len, void *ret);
/* result<bool, error>: tag @0, bool u8 @4 or error @4. */
EOS__IMPORT(EOS__KV("store"), "[method]bucket.exists")
void eos__kv_exists(eos__handle b, const char *key, size_t key_len, void *ret);
/* result<key-response, error>: tag @0; keys list<string> @4/@8, cursor option<string>
 * tag @12, string @16/@20. */
EOS__IMPORT(EOS__KV("store"), "[method]bucket.list-keys")
void eos__kv_list_keys(eos__handle b, int32_t has_cursor, const char *cursor, size_t cursor_len,
                       void *ret);
/* result<s64, error>: tag @0, payload @8. */
EOS__IMPORT(EOS__KV("atomics"), "increment")
void eos__kv_increment(eos__handle b, const char *key, size_t key_len, int64_t delta, void *ret);
EOS__IMPORT(EOS__KV("atomics"), "[static]cas.new")
void eos__kv_cas_new(eos__handle b, const char *key, size_t key_len, void *ret);
EOS__IMPORT(EOS__KV("atomics"), "[method]cas.current")
void eos__kv_cas_current(eos__handle cas, void *ret);
/* result<_, cas-error>: tag @0; cas-error tag @4 (store-error(error) @8,
 * cas-failed(own<cas>) @8). */
EOS__IMPORT(EOS__KV("atomics"), "swap")
void eos__kv_cas_swap(eos__handle cas, const void *value, size_t value_len, void *ret);
EOS__IMPORT(EOS__KV("atomics"), "[resource-drop]cas")
void eos__kv_cas_drop(eos__handle cas);
/* result<list<option<tuple<string, list<u8>>>>, error>: tag @0, list @4/@8; element
 * 20 bytes: option tag @0, key @4/@8, value @12/@16. */
EOS__IMPORT(EOS__KV("batch"), "get-many")
void eos__kv_get_many(eos__handle b, const eos__bytes *keys, size_t count, void *ret);
/* key-values: 16-byte elements, key @0/@4, value @8/@12. */
EOS__IMPORT(EOS__KV("batch"), "set-many")
void eos__kv_set_many(eos__handle b, const void *kvs, size_t count, void *ret);
EOS__IMPORT(EOS__KV("batch"), "delete-many")
void eos__kv_delete_many(eos__handle b, const eos__bytes *keys, size_t count, void *ret);

/* wasi:logging (0.1.0-draft): level enum as i32. */
EOS__IMPORT("wasi:logging/logging@0.1.0-draft", "log")
void eos__log(int32_t level, const char *ctx, size_t ctx_len, const char *msg, size_t msg_len);

/* wasi:random, wasi:clocks, wasi:cli */
EOS__IMPORT(EOS__WASI("wasi:random/random"), "get-random-bytes")
void eos__random_bytes(int64_t len, void *ret); /* list<u8> @0/@4 */
EOS__IMPORT(EOS__WASI("wasi:random/random"), "get-random-u64")
int64_t eos__random_u64(void);
EOS__IMPORT(EOS__WASI("wasi:clocks/wall-clock"), "now")
void eos__wall_now(void *ret); /* seconds u64 @0, nanoseconds u32 @8 */
EOS__IMPORT(EOS__WASI("wasi:clocks/monotonic-clock"), "now")
int64_t eos__monotonic_now(void);
/* list<tuple<string, string>> @0/@4; 16-byte elements. */
EOS__IMPORT(EOS__WASI("wasi:cli/environment"), "get-environment")
void eos__get_environment(void *ret);

/* Little-endian loads from a return area (wasm is little-endian, areas are aligned). */
static inline uint32_t eos__u32(const uint8_t *p)
{
    return *(const uint32_t *)(const void *)p;
}
static inline uint64_t eos__u64(const uint8_t *p)
{
    return *(const uint64_t *)(const void *)p;
}
static inline eos__bytes eos__list(const uint8_t *p)
{
    eos__bytes b = {(uint8_t *)(uintptr_t)eos__u32(p), eos__u32(p + 4)};
    return b;
}

/* Lets the next byte list the host hands over (at most cap bytes) land in buf
 * instead of fresh memory; eos__land_in(NULL, 0) cancels. The caller checks
 * whether the list's pointer is buf. */
void eos__land_in(void *buf, size_t cap);

/* Frees memory the host allocated through cabi_realloc for a list of len elements;
 * an empty list's pointer is only an aligned address, never allocated. */
static inline void eos__release(void *ptr, size_t len)
{
    if (len)
        free(ptr);
}

/* Turns a stream-error (tag at p, handle at p + 4) into an SDK error, dropping the
 * error resource it may carry. */
int eos__stream_error(const uint8_t *p);

/* Writes all of data (borrowed) to an output stream, following its check-write
 * budget and flushing when it accepts nothing. */
int eos__write_all(eos__handle stream, const uint8_t *data, size_t size);
/* The incoming body of a request or response: its body and stream handles
 * (-1 until consumed) and whether the stream has ended. */
typedef struct {
    eos__handle body, stream;
    bool done;
} eos__in_body;
#define EOS__IN_BODY_INIT {-1, -1, false}

/* Reads the next non-empty chunk of the body into buf (at most cap > 0 bytes),
 * consuming it from owner (borrowed) through consume, its consume import, the
 * first time. *out_size is 0 once the body has ended. A stream error is turned
 * into an SDK error by on_error(ctx, the stream-error) (NULL: eos__stream_error);
 * the stream closing is the end, not an error. */
int eos__in_body_read(eos__in_body *ib, void (*consume)(eos__handle owner, void *ret),
                      eos__handle owner, void *buf, size_t cap, size_t *out_size,
                      int (*on_error)(void *ctx, const uint8_t *p), void *ctx);
/* Drops the body's stream and body (and its trailers), children first. */
void eos__in_body_close(eos__in_body *ib);

/* Ends an outgoing body (no trailers): flushes and drops its stream, then
 * finishes body; both handles are gone after. Returns the flush's error (as
 * eos__stream_error) and leaves outgoing-body.finish's result in ret (40
 * bytes, aligned to 8: tag @0, error-code @8). */
int eos__out_body_end(eos__handle stream, eos__handle body, uint8_t *ret);

/* Reads a whole body through read_chunk (as eos_request_read does a chunk)
 * into *out_body (malloc, NUL-terminated; free with free()); EOS_APP_ETOOBIG
 * past max_size. */
int eos__read_all(int (*read_chunk)(void *src, void *buf, size_t cap, size_t *n), void *src,
                  size_t max_size, void **out_body, size_t *out_size);

/* Turns a keyvalue store error (tag at p, other's string at p + 4) into an SDK error,
 * keeping the host's text for eos_app_error_detail(). */
int eos__store_error(const uint8_t *p);

/* One header line copied out of a fields resource: NUL-terminated name (lower
 * case) and value, the value's size without the NUL. */
typedef struct {
    char *name;
    char *value;
    size_t size;
} eos__header;

/* Copies every line of `fields` (borrowed) into a new array in *out (free with
 * eos__headers_free); returns the count (0 with *out NULL when empty or out of
 * memory). */
size_t eos__headers_copy(eos__handle fields, eos__header **out);
void eos__headers_free(eos__header *h, size_t count);
/* The first line named `name` (case-insensitive), or NULL. */
const eos__header *eos__headers_find(const eos__header *h, size_t count, const char *name);

/* Copies a canonical string into a NUL-terminated heap string and frees the original
 * (the host allocated it through cabi_realloc). NULL when out of memory. */
char *eos__take_string(eos__bytes b);

#endif
