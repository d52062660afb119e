/* libFuzzer target for the bytes a client controls: the frame decoder with
 * the inner request parser as its sink (exactly as the server wires them),
 * fed in input-chosen chunk sizes, and the request parser on its own. */
#include <stddef.h>
#include <stdint.h>

#include "eos/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_frames(const uint8_t *data, size_t size, size_t chunk)
{
    eos_proto_request *req = NULL;
    eos_proto_decoder *dec = NULL;
    if (eos_proto_request_new(4096, &req) < 0)
        return;
    eos_proto_decoder_config cfg;
    eos_proto_decoder_config_init(&cfg);
    cfg.max_frame_size = 1 << 20;
    cfg.sink = eos_proto_request_feed;
    cfg.sink_ud = req;
    if (eos_proto_decoder_new(&cfg, &dec) < 0)
        goto out;
    size_t off = 0;
    while (off < size && !eos_proto_decoder_dead(dec)) {
        size_t take = size - off < chunk ? size - off : chunk;
        size_t used = 0;
        eos_diag d;
        eos_diag_init(&d);
        int rc = eos_proto_decoder_feed(dec, data + off, take, &used, &d);
        off += used;
        if (rc == EOS_PROTO_MSG_DATA)
            eos_proto_request_finish(req, &d);
        if (rc != EOS_EAGAIN)
            eos_proto_request_reset(req);
        if (rc == EOS_EAGAIN && used == 0)
            break; /* cannot happen; guards the loop */
    }
out:
    eos_proto_decoder_free(dec);
    eos_proto_request_free(req);
}

static void fuzz_request(const uint8_t *data, size_t size, size_t chunk)
{
    eos_proto_request *req = NULL;
    if (eos_proto_request_new(4096, &req) < 0)
        return;
    eos_diag d;
    eos_diag_init(&d);
    int rc = 0;
    for (size_t off = 0; off < size && rc == 0; off += chunk) {
        size_t take = size - off < chunk ? size - off : chunk;
        rc = eos_proto_request_feed(req, data + off, take, &d);
    }
    if (rc == 0 && eos_proto_request_finish(req, &d) == 0) {
        size_t n;
        eos_proto_request_bytes(req, &n);
        (void)eos_proto_request_name(req);
    }
    eos_proto_request_free(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    size_t chunk = (size_t)(mode & 0x3f) + 1;
    if (mode & 0x40)
        chunk = size; /* one piece */
    if (mode & 0x80)
        fuzz_request(data + 1, size - 1, chunk);
    else
        fuzz_frames(data + 1, size - 1, chunk);
    return 0;
}
