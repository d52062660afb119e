/* Tests of the frame codec: encoding, incremental decoding (byte by byte and
 * several frames per buffer), limits, malformed input that keeps the stream
 * usable, and out-of-memory at every allocation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eos/proto.h"
#include "harness.h"

/* Frames a raw payload (caller frees with free()). */
static uint8_t *raw_frame(const char *payload, size_t size, size_t *out_size)
{
    uint8_t *f = malloc(size + 4);
    eos_proto_put_u32be(f, (uint32_t)size);
    memcpy(f + 4, payload, size);
    *out_size = size + 4;
    return f;
}

/* Feeds a whole buffer, returning the first non-EAGAIN result (or EAGAIN). */
static int feed_all(eos_proto_decoder *dec, const uint8_t *in, size_t size, size_t *out_used,
                    eos_diag *d)
{
    size_t used = 0;
    int rc = eos_proto_decoder_feed(dec, in, size, &used, d);
    if (out_used)
        *out_used = used;
    return rc;
}

static int decode_payload(const char *payload, eos_diag *d)
{
    eos_proto_decoder *dec = NULL;
    EOS_CHECK_INT(eos_proto_decoder_new(NULL, &dec), 0);
    size_t n;
    uint8_t *f = raw_frame(payload, strlen(payload), &n);
    eos_diag_init(d);
    int rc = feed_all(dec, f, n, NULL, d);
    /* Whatever happened, the next frame must decode: the boundary was known. */
    static const uint8_t ping[] = {0, 0, 0, 6, '"', 'P', 'i', 'n', 'g', '"'};
    if (rc != EOS_ETOOBIG && rc != EOS_ENOMEM) {
        eos_diag d2;
        eos_diag_init(&d2);
        EOS_CHECK_INT(feed_all(dec, ping, sizeof ping, NULL, &d2), EOS_PROTO_MSG_PING);
    }
    free(f);
    eos_proto_decoder_free(dec);
    return rc;
}

static void test_encode_unit(void)
{
    uint8_t *f = NULL;
    size_t n = 0;
    EOS_CHECK_INT(eos_proto_msg_encode(EOS_PROTO_MSG_PONG, NULL, 0, &f, &n), 0);
    static const uint8_t want[] = {0, 0, 0, 6, '"', 'P', 'o', 'n', 'g', '"'};
    EOS_CHECK_MEM(f, n, want, sizeof want);
    eos_free(f, n);
    EOS_CHECK_INT(eos_proto_msg_encode((eos_proto_msg_kind)99, NULL, 0, &f, &n), EOS_EINVAL);
}

static void test_encode_bytes(void)
{
    uint8_t *f = NULL;
    size_t n = 0;
    const uint8_t bytes[] = {0, 9, 10, 99, 100, 255};
    EOS_CHECK_INT(eos_proto_msg_encode(EOS_PROTO_MSG_ERROR, bytes, sizeof bytes, &f, &n), 0);
    const char *want = "{\"Error\":[0,9,10,99,100,255]}";
    EOS_CHECK_INT(eos_proto_get_u32be(f), strlen(want));
    EOS_CHECK_MEM(f + 4, n - 4, want, strlen(want));
    eos_free(f, n);
    EOS_CHECK_INT(eos_proto_msg_encode(EOS_PROTO_MSG_DATA, NULL, 0, &f, &n), 0);
    EOS_CHECK_MEM(f + 4, n - 4, "{\"Data\":[]}", 11);
    eos_free(f, n);
    EOS_CHECK_INT(eos_proto_frame_encode((const uint8_t *)"xy", 2, &f, &n), 0);
    static const uint8_t raw[] = {0, 0, 0, 2, 'x', 'y'};
    EOS_CHECK_MEM(f, n, raw, sizeof raw);
    eos_free(f, n);
}

static void test_roundtrip_byte_by_byte(void)
{
    uint8_t all[256 * 3];
    for (size_t i = 0; i < sizeof all; i++)
        all[i] = (uint8_t)(i * 7);
    uint8_t *f = NULL;
    size_t n = 0;
    EOS_CHECK_INT(eos_proto_msg_encode(EOS_PROTO_MSG_DATA, all, sizeof all, &f, &n), 0);
    eos_proto_decoder *dec = NULL;
    EOS_CHECK_INT(eos_proto_decoder_new(NULL, &dec), 0);
    for (int round = 0; round < 2; round++) {
        int rc = EOS_EAGAIN;
        for (size_t i = 0; i < n; i++) {
            size_t used = 0;
            eos_diag d;
            eos_diag_init(&d);
            rc = eos_proto_decoder_feed(dec, f + i, 1, &used, &d);
            EOS_CHECK_INT(used, 1);
            if (i + 1 < n)
                EOS_CHECK_INT(rc, EOS_EAGAIN);
            EOS_CHECK_INT(eos_proto_decoder_in_frame(dec), i + 1 < n);
        }
        EOS_CHECK_INT(rc, EOS_PROTO_MSG_DATA);
        size_t size = 0;
        const uint8_t *got = eos_proto_decoder_bytes(dec, &size);
        EOS_CHECK_MEM(got, size, all, sizeof all);
    }
    eos_proto_decoder_free(dec);
    eos_free(f, n);
}

static void test_several_frames_in_one_buffer(void)
{
    uint8_t buf[64];
    size_t len = 0;
    const char *payloads[] = {"\"Ping\"", " \"Shutdown\" ", "{\"Data\":[1,2]}", "\"Ok\""};
    for (size_t i = 0; i < 4; i++) {
        size_t n = strlen(payloads[i]);
        eos_proto_put_u32be(buf + len, (uint32_t)n);
        memcpy(buf + len + 4, payloads[i], n);
        len += n + 4;
    }
    eos_proto_decoder *dec = NULL;
    EOS_CHECK_INT(eos_proto_decoder_new(NULL, &dec), 0);
    int want[] = {EOS_PROTO_MSG_PING, EOS_PROTO_MSG_SHUTDOWN, EOS_PROTO_MSG_DATA, EOS_PROTO_MSG_OK};
    size_t off = 0;
    for (size_t i = 0; i < 4; i++) {
        size_t used = 0;
        eos_diag d;
        EOS_CHECK_INT(eos_proto_decoder_feed(dec, buf + off, len - off, &used, &d), want[i]);
        off += used;
    }
    EOS_CHECK_INT(off, len);
    eos_proto_decoder_free(dec);
}

static void test_oversize_is_fatal(void)
{
    eos_proto_decoder_config cfg;
    eos_proto_decoder_config_init(&cfg);
    EOS_CHECK_INT(cfg.max_frame_size, EOS_PROTO_DEFAULT_MAX_FRAME);
    cfg.max_frame_size = 100;
    eos_proto_decoder *dec = NULL;
    EOS_CHECK_INT(eos_proto_decoder_new(&cfg, &dec), 0);
    uint8_t hdr[4];
    eos_proto_put_u32be(hdr, 100);
    eos_diag d;
    eos_diag_init(&d);
    size_t used;
    EOS_CHECK_INT(eos_proto_decoder_feed(dec, hdr, 4, &used, &d), EOS_EAGAIN);
    EOS_CHECK(!eos_proto_decoder_dead(dec));
    eos_proto_decoder_free(dec);

    EOS_CHECK_INT(eos_proto_decoder_new(&cfg, &dec), 0);
    eos_proto_put_u32be(hdr, 101);
    EOS_CHECK_INT(eos_proto_decoder_feed(dec, hdr, 4, &used, &d), EOS_ETOOBIG);
    EOS_CHECK(eos_proto_decoder_dead(dec));
    EOS_CHECK(strstr(d.message, "exceeds the maximum frame size") != NULL);
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_proto_decoder_feed(dec, hdr, 4, &used, &d), EOS_ETOOBIG);
    eos_proto_decoder_free(dec);

    /* The default decoder refuses 0xFFFFFFFF before reading a payload byte. */
    EOS_CHECK_INT(eos_proto_decoder_new(NULL, &dec), 0);
    static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, '"'};
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_proto_decoder_feed(dec, huge, sizeof huge, &used, &d), EOS_ETOOBIG);
    EOS_CHECK_INT(used, 4);
    eos_proto_decoder_free(dec);
}

static void test_malformed_json(void)
{
    eos_diag d;
    EOS_CHECK_INT(decode_payload("{bad", &d), EOS_EMALFORMED);
    EOS_CHECK(strstr(d.message, "malformed JSON") != NULL);
    EOS_CHECK_INT(decode_payload("\"Ping", &d), EOS_EMALFORMED);
    EOS_CHECK_INT(decode_payload("   ", &d), EOS_EMALFORMED);
    EOS_CHECK_INT(decode_payload("\"Ping\" \"Ping\"", &d), EOS_EMALFORMED);
    EOS_CHECK_INT(decode_payload("{\"Data\":[1,2,]}", &d), EOS_EMALFORMED);
    EOS_CHECK_INT(decode_payload("", &d), EOS_EMALFORMED);
    EOS_CHECK(strstr(d.message, "empty frame") != NULL);
}

static void test_wrong_shapes(void)
{
    eos_diag d;
    const char *bad[] = {"null",
                         "true",
                         "5",
                         "[1,2]",
                         "{}",
                         "\"Pang\"",
                         "\"Data\"",
                         "{\"Ping\":[]}",
                         "{\"Data\":[1],\"Error\":[2]}",
                         "{\"Data\":{}}",
                         "{\"Data\":[[1]]}",
                         "{\"Data\":\"abc\"}",
                         "{\"Data\":[null]}",
                         "{\"Nope\":[1]}"};
    for (size_t i = 0; i < EOS_ARRAY_LEN(bad); i++) {
        int rc = decode_payload(bad[i], &d);
        if (rc != EOS_EMALFORMED)
            fprintf(stderr, "  payload %s gave %d (%s)\n", bad[i], rc, d.message);
        EOS_CHECK_INT(rc, EOS_EMALFORMED);
        EOS_CHECK(d.message[0] != 0);
    }
}

static void test_invalid_byte_values(void)
{
    eos_diag d;
    const char *bad[] = {"{\"Data\":[256]}",
                         "{\"Data\":[-1]}",
                         "{\"Data\":[1.5]}",
                         "{\"Data\":[1e2]}",
                         "{\"Data\":[99999999999999999999999]}",
                         "{\"Error\":[0,1000]}"};
    for (size_t i = 0; i < EOS_ARRAY_LEN(bad); i++) {
        EOS_CHECK_INT(decode_payload(bad[i], &d), EOS_ERANGE);
        EOS_CHECK(strstr(d.message, "out of range") != NULL);
    }
    EOS_CHECK_INT(decode_payload("{\"Data\":[0,255]}", &d), EOS_PROTO_MSG_DATA);
}

static void test_invalid_utf8(void)
{
    eos_diag d;
    EOS_CHECK_INT(decode_payload("\"Pi\xffng\"", &d), EOS_EMALFORMED);
    EOS_CHECK_INT(decode_payload("{\"Da\xc3\x28ta\":[1]}", &d), EOS_EMALFORMED);
    EOS_CHECK_INT(decode_payload("\"\xed\xa0\x80\"", &d), EOS_EMALFORMED);
}

static void test_deep_nesting_and_long_tokens(void)
{
    size_t depth = 100000;
    char *p = malloc(depth + 1);
    memset(p, '[', depth);
    p[depth] = 0;
    eos_diag d;
    EOS_CHECK_INT(decode_payload(p, &d), EOS_EMALFORMED);
    memset(p, ' ', depth);
    p[0] = '"';
    EOS_CHECK_INT(decode_payload(p, &d), EOS_ELIMIT);
    EOS_CHECK(strstr(d.message, "longer than") != NULL);
    free(p);
}

static int sink_total;
static int counting_sink(void *ud, const uint8_t *bytes, size_t size, eos_diag *d)
{
    sink_total += (int)size;
    if (ud && sink_total > 10)
        return eos_diag_set(d, EOS_ELIMIT, "test", -1, "sink says too much");
    return 0;
}

static void test_sink(void)
{
    eos_proto_decoder_config cfg;
    eos_proto_decoder_config_init(&cfg);
    cfg.sink = counting_sink;
    eos_proto_decoder *dec = NULL;
    EOS_CHECK_INT(eos_proto_decoder_new(&cfg, &dec), 0);
    uint8_t data[20000];
    memset(data, 'a', sizeof data);
    uint8_t *f;
    size_t n;
    EOS_CHECK_INT(eos_proto_msg_encode(EOS_PROTO_MSG_DATA, data, sizeof data, &f, &n), 0);
    sink_total = 0;
    eos_diag d;
    EOS_CHECK_INT(feed_all(dec, f, n, NULL, &d), EOS_PROTO_MSG_DATA);
    EOS_CHECK_INT(sink_total, 20000);
    size_t size = 1;
    eos_proto_decoder_bytes(dec, &size);
    EOS_CHECK_INT(size, 0);
    eos_proto_decoder_free(dec);

    cfg.sink_ud = &cfg; /* makes the sink refuse */
    EOS_CHECK_INT(eos_proto_decoder_new(&cfg, &dec), 0);
    sink_total = 0;
    eos_diag_init(&d);
    EOS_CHECK_INT(feed_all(dec, f, n, NULL, &d), EOS_ELIMIT);
    EOS_CHECK(strstr(d.message, "sink says") != NULL);
    EOS_CHECK(!eos_proto_decoder_dead(dec));
    eos_proto_decoder_free(dec);
    eos_free(f, n);
}

/* Every allocation of a decode may fail: the result is then EOS_ENOMEM (or
 * success when the failed allocation was not needed), never a crash or leak. */
static void test_alloc_failures(void)
{
    uint8_t data[50000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)i;
    uint8_t *f;
    size_t n;
    EOS_CHECK_INT(eos_proto_msg_encode(EOS_PROTO_MSG_DATA, data, sizeof data, &f, &n), 0);
    int succeeded = 0;
    for (long k = 1; k < 200 && !succeeded; k++) {
        eos_test_fail_alloc_after(k, 1);
        eos_proto_decoder *dec = NULL;
        int rc = eos_proto_decoder_new(NULL, &dec);
        if (rc == 0) {
            eos_diag d;
            eos_diag_init(&d);
            /* In two pieces, so a token spans chunks and yajl buffers it. */
            size_t used1 = 0, used2 = 0;
            rc = eos_proto_decoder_feed(dec, f, n / 2 + 1, &used1, &d);
            if (rc == EOS_EAGAIN)
                rc = eos_proto_decoder_feed(dec, f + used1, n - used1, &used2, &d);
            if (rc == EOS_PROTO_MSG_DATA) {
                size_t size;
                const uint8_t *got = eos_proto_decoder_bytes(dec, &size);
                EOS_CHECK_MEM(got, size, data, sizeof data);
                succeeded = 1;
            } else {
                EOS_CHECK_INT(rc, EOS_ENOMEM);
                EOS_CHECK(eos_proto_decoder_dead(dec));
            }
            eos_proto_decoder_free(dec);
        } else {
            EOS_CHECK_INT(rc, EOS_ENOMEM);
        }
        eos_test_fail_alloc_after(0, 0);
    }
    EOS_CHECK(succeeded);
    eos_test_fail_alloc_after(1, 1);
    uint8_t *g = NULL;
    size_t gn = 0;
    EOS_CHECK_INT(eos_proto_msg_encode(EOS_PROTO_MSG_PONG, NULL, 0, &g, &gn), EOS_ENOMEM);
    EOS_CHECK_INT(eos_proto_frame_encode(data, 5, &g, &gn), EOS_ENOMEM);
    eos_test_fail_alloc_after(0, 0);
    eos_free(f, n);
}

int main(void)
{
    EOS_RUN(test_encode_unit);
    EOS_RUN(test_encode_bytes);
    EOS_RUN(test_roundtrip_byte_by_byte);
    EOS_RUN(test_several_frames_in_one_buffer);
    EOS_RUN(test_oversize_is_fatal);
    EOS_RUN(test_malformed_json);
    EOS_RUN(test_wrong_shapes);
    EOS_RUN(test_invalid_byte_values);
    EOS_RUN(test_invalid_utf8);
    EOS_RUN(test_deep_nesting_and_long_tokens);
    EOS_RUN(test_sink);
    EOS_RUN(test_alloc_failures);
    return eos_test_finish();
}
