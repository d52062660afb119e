/* The seed's first app in C: /hello answers a greeting, every other path says it is
 * unknown (both with status 200, as in the seed's Rust handler). */
#include <string.h>

#include <eos_app.h>

static void handle(eos_request *req, eos_response_out *out)
{
    const char *path = eos_request_path(req);
    eos_respond_text(out, 200,
                     strcmp(path, "/hello") == 0 ? "Hello from inside SGX!" : "Unknown path");
}

EOS_HTTP_HANDLER(handle)
