/* Private declarations of the proto layer: yajl parsers on the eos allocator
 * and their error reports, shared by the frame decoder and the request parser. */
#ifndef EOS_PROTO_INTERNAL_H
#define EOS_PROTO_INTERNAL_H

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "eos/proto.h"

/* A yajl parser whose memory goes through the eos allocator hook. When the
 * hook fails, *oom_flag is set (yajl keeps running on libc memory so it
 * cannot crash) and the caller must fail with EOS_ENOMEM after yajl returns.
 * NULL when out of memory. Free with yajl_free(). cb and oom_flag are
 * borrowed for the parser's lifetime. */
yajl_handle eos_proto__yajl_new(const yajl_callbacks *cb, void *cb_ctx, int *oom_flag);
/* Records yajl's last error as an EOS_EMALFORMED diag at offset. Borrows all. */
void eos_proto__yajl_error(yajl_handle h, const uint8_t *chunk, size_t chunk_size, int64_t offset,
                           eos_diag *d);

#endif
