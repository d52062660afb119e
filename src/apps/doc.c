/* The error document every management operation answers with when it
 * fails: {"status":"error","code":...,"message":...}. */
#include <string.h>

#include <yajl/yajl_gen.h>

#include "internal.h"

static void gen_str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

int eos_apps_error_doc(const char *code, const char *message, char **out, size_t *out_size)
{
    int oom = 0;
    yajl_gen g = eos_proto_json_gen_new(&oom);
    if (!g)
        return EOS_ENOMEM;
    yajl_gen_map_open(g);
    gen_str(g, "status");
    gen_str(g, "error");
    gen_str(g, "code");
    gen_str(g, code);
    gen_str(g, "message");
    gen_str(g, message);
    yajl_gen_map_close(g);
    if (oom) {
        yajl_gen_free(g);
        return EOS_ENOMEM;
    }
    return eos_proto_json_finish(g, out, out_size);
}
