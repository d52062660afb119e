/* Streams the request body back as the response body, one chunk at a time, with the
 * request's content type: memory use stays at one chunk whatever the body's size. */
#include <eos_app.h>

static void handle(eos_request *req, eos_response_out *out)
{
    static unsigned char chunk[16384];
    const char *type = eos_request_header(req, "content-type", NULL);
    size_t n;
    int err;

    eos_response_header(out, "content-type", type ? type : "application/octet-stream");
    if ((err = eos_response_start(out, 200)))
        return;
    while ((err = eos_request_read(req, chunk, sizeof chunk, &n)) == EOS_APP_OK && n > 0) {
        if ((err = eos_response_write(out, chunk, n)))
            break;
    }
    /* On a read or write error the body ends early; the client sees a short body. */
    eos_response_finish(out);
}

EOS_HTTP_HANDLER(handle)
