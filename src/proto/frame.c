/* The frame codec of the management protocol: [u32 BE length][JSON payload].
 * Encoding builds whole frames; decoding is an incremental state machine that
 * streams the payload through yajl, so a {"Data": [...]} array is turned into
 * bytes as it arrives and the frame is never buffered whole. */
#include <string.h>

#include "internal.h"

#define BATCH_SIZE 8192
/* Longest run of payload bytes without a parser event. Legitimate outer
 * payloads only hold short tokens; the limit bounds yajl's token buffer. */
#define MAX_TOKEN_GAP 65536

typedef enum dec_state {
    DEC_HEADER,  /* collecting the 4-byte length */
    DEC_PAYLOAD, /* streaming the payload through the parser */
    DEC_SKIP,    /* payload already known to be invalid: discard to the frame's end */
    DEC_DEAD     /* oversized length or out of memory: the stream cannot continue */
} dec_state;

/* Where the parser is inside the expected shapes "Name" or {"Name": [u8...]}. */
typedef enum shape {
    SH_START,
    SH_UNIT_DONE,
    SH_MAP_OPEN,
    SH_KEY_SEEN,
    SH_IN_ARRAY,
    SH_ARRAY_DONE,
    SH_DONE
} shape;

struct eos_proto_decoder {
    eos_proto_decoder_config cfg;
    dec_state state;
    uint8_t header[4];
    size_t header_have;
    uint32_t frame_size;
    uint32_t remaining;
    int fatal_code;   /* sticky error once DEC_DEAD */
    eos_diag pending; /* the frame's error, reported when its last byte arrives */
    yajl_handle yajl;
    int yajl_oom;
    shape shape;
    eos_proto_msg_kind kind;
    uint64_t pos;        /* payload bytes handed to yajl so far */
    uint64_t last_event; /* pos after the piece where the last parser event happened */
    int event_seen;      /* a parser event happened in the current piece */
    uint8_t batch[BATCH_SIZE];
    size_t batch_len;
    uint8_t *bytes; /* accumulated message bytes when no sink is configured */
    size_t bytes_len;
    size_t bytes_cap;
};

static const struct {
    const char *name;
    eos_proto_msg_kind kind;
    int has_bytes;
} msg_names[] = {
    {"Ping", EOS_PROTO_MSG_PING, 0},         {"Pong", EOS_PROTO_MSG_PONG, 0},
    {"Shutdown", EOS_PROTO_MSG_SHUTDOWN, 0}, {"Ok", EOS_PROTO_MSG_OK, 0},
    {"Data", EOS_PROTO_MSG_DATA, 1},         {"Error", EOS_PROTO_MSG_ERROR, 1},
};

const char *eos_proto_msg_name(eos_proto_msg_kind kind)
{
    for (size_t i = 0; i < EOS_ARRAY_LEN(msg_names); i++)
        if (msg_names[i].kind == kind)
            return msg_names[i].name;
    return "?";
}

static int lookup(const unsigned char *s, size_t len, int *has_bytes)
{
    for (size_t i = 0; i < EOS_ARRAY_LEN(msg_names); i++) {
        if (strlen(msg_names[i].name) == len && memcmp(msg_names[i].name, s, len) == 0) {
            *has_bytes = msg_names[i].has_bytes;
            return msg_names[i].kind;
        }
    }
    return 0;
}

/* ---- encoding ---- */

static size_t digits(uint8_t b)
{
    return b >= 100 ? 3 : b >= 10 ? 2 : 1;
}

int eos_proto_frame_encode(const uint8_t *payload, size_t size, uint8_t **out, size_t *out_size)
{
    if (size > EOS_PROTO_MAX_FRAME_LIMIT)
        return EOS_ETOOBIG;
    uint8_t *buf = eos_malloc(size + 4);
    if (!buf)
        return EOS_ENOMEM;
    eos_proto_put_u32be(buf, (uint32_t)size);
    if (size)
        memcpy(buf + 4, payload, size);
    *out = buf;
    *out_size = size + 4;
    return 0;
}

int eos_proto_msg_encode(eos_proto_msg_kind kind, const uint8_t *bytes, size_t size, uint8_t **out,
                       size_t *out_size)
{
    const char *name = eos_proto_msg_name(kind);
    if (name[0] == '?')
        return EOS_EINVAL;
    int has_bytes = kind == EOS_PROTO_MSG_DATA || kind == EOS_PROTO_MSG_ERROR;
    size_t name_len = strlen(name);
    /* Exact size first, so the frame is one allocation of the right size. */
    size_t payload = name_len + 2;
    if (has_bytes) {
        payload += 5; /* {"": [ ] } minus the quotes counted above */
        if (size > EOS_PROTO_MAX_FRAME_LIMIT / 4)
            return EOS_ETOOBIG;
        for (size_t i = 0; i < size; i++)
            payload += digits(bytes[i]) + (i ? 1 : 0);
    }
    if (payload > EOS_PROTO_MAX_FRAME_LIMIT)
        return EOS_ETOOBIG;
    uint8_t *buf = eos_malloc(payload + 4);
    if (!buf)
        return EOS_ENOMEM;
    eos_proto_put_u32be(buf, (uint32_t)payload);
    uint8_t *p = buf + 4;
    if (has_bytes)
        *p++ = '{';
    *p++ = '"';
    memcpy(p, name, name_len);
    p += name_len;
    *p++ = '"';
    if (has_bytes) {
        *p++ = ':';
        *p++ = '[';
        for (size_t i = 0; i < size; i++) {
            uint8_t b = bytes[i];
            if (i)
                *p++ = ',';
            if (b >= 100)
                *p++ = (uint8_t)('0' + b / 100);
            if (b >= 10)
                *p++ = (uint8_t)('0' + b / 10 % 10);
            *p++ = (uint8_t)('0' + b % 10);
        }
        *p++ = ']';
        *p++ = '}';
    }
    *out = buf;
    *out_size = payload + 4;
    return 0;
}

/* ---- decoding: parser callbacks ---- */

static int shape_error(eos_proto_decoder *dec, const char *what)
{
    eos_diag_set(&dec->pending, EOS_EMALFORMED, "frame", (int64_t)dec->pos,
                 "unexpected %s in frame: a message must be \"Ping\", \"Shutdown\" or "
                 "{\"Data\": [bytes 0..255]}",
                 what);
    return 0;
}

static int flush_batch(eos_proto_decoder *dec)
{
    if (dec->batch_len == 0)
        return 0;
    int rc = 0;
    if (dec->cfg.sink) {
        rc = dec->cfg.sink(dec->cfg.sink_ud, dec->batch, dec->batch_len, &dec->pending);
        if (rc < 0)
            eos_diag_set(&dec->pending, rc, "data", (int64_t)dec->pos, "%s", eos_strerror(rc));
    } else {
        if (dec->bytes_len + dec->batch_len > dec->bytes_cap) {
            size_t cap = dec->bytes_cap ? dec->bytes_cap * 2 : BATCH_SIZE;
            while (cap < dec->bytes_len + dec->batch_len)
                cap *= 2;
            uint8_t *nb = eos_realloc(dec->bytes, dec->bytes_cap, cap);
            if (!nb) {
                rc = eos_diag_set(&dec->pending, EOS_ENOMEM, "data", (int64_t)dec->pos,
                                  "out of memory while decoding a %zu-byte message",
                                  dec->bytes_len + dec->batch_len);
                goto out;
            }
            dec->bytes = nb;
            dec->bytes_cap = cap;
        }
        memcpy(dec->bytes + dec->bytes_len, dec->batch, dec->batch_len);
        dec->bytes_len += dec->batch_len;
    }
out:
    dec->batch_len = 0;
    return rc;
}

static int cb_null(void *ctx)
{
    return shape_error(ctx, "null");
}

static int cb_bool(void *ctx, int v)
{
    return shape_error(ctx, "boolean");
}

static int cb_number(void *ctx, const char *s, size_t len)
{
    eos_proto_decoder *dec = ctx;
    dec->event_seen = 1;
    if (dec->shape != SH_IN_ARRAY)
        return shape_error(dec, "number");
    unsigned v = 0;
    int ok = len >= 1 && len <= 3;
    for (size_t i = 0; ok && i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            ok = 0;
        else
            v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (!ok || v > 255) {
        eos_diag_set(&dec->pending, EOS_ERANGE, "data", (int64_t)dec->pos,
                     "byte value out of range in %s array: '%.*s' is not an integer 0..255",
                     eos_proto_msg_name(dec->kind), (int)(len > 24 ? 24 : len), s);
        return 0;
    }
    dec->batch[dec->batch_len++] = (uint8_t)v;
    if (dec->batch_len == BATCH_SIZE && flush_batch(dec) < 0)
        return 0;
    return 1;
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
    eos_proto_decoder *dec = ctx;
    dec->event_seen = 1;
    if (dec->shape != SH_START)
        return shape_error(dec, "string");
    int has_bytes = 0;
    int kind = lookup(s, len, &has_bytes);
    if (!kind || has_bytes) {
        eos_diag_set(&dec->pending, EOS_EMALFORMED, "frame", (int64_t)dec->pos,
                     "unknown message \"%.*s\": expected \"Ping\", \"Shutdown\" or "
                     "{\"Data\": [...]}",
                     (int)(len > 40 ? 40 : len), (const char *)s);
        return 0;
    }
    dec->kind = (eos_proto_msg_kind)kind;
    dec->shape = SH_UNIT_DONE;
    return 1;
}

static int cb_start_map(void *ctx)
{
    eos_proto_decoder *dec = ctx;
    dec->event_seen = 1;
    if (dec->shape != SH_START)
        return shape_error(dec, "object");
    dec->shape = SH_MAP_OPEN;
    return 1;
}

static int cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
    eos_proto_decoder *dec = ctx;
    dec->event_seen = 1;
    if (dec->shape != SH_MAP_OPEN)
        return shape_error(dec, "second key");
    int has_bytes = 0;
    int kind = lookup(s, len, &has_bytes);
    if (!kind || !has_bytes) {
        eos_diag_set(&dec->pending, EOS_EMALFORMED, "frame", (int64_t)dec->pos,
                     "unknown message {\"%.*s\": ...}: expected {\"Data\": [bytes 0..255]}",
                     (int)(len > 40 ? 40 : len), (const char *)s);
        return 0;
    }
    dec->kind = (eos_proto_msg_kind)kind;
    dec->shape = SH_KEY_SEEN;
    return 1;
}

static int cb_end_map(void *ctx)
{
    eos_proto_decoder *dec = ctx;
    dec->event_seen = 1;
    if (dec->shape != SH_ARRAY_DONE)
        return shape_error(dec, dec->shape == SH_MAP_OPEN ? "empty object" : "end of object");
    dec->shape = SH_DONE;
    return 1;
}

static int cb_start_array(void *ctx)
{
    eos_proto_decoder *dec = ctx;
    dec->event_seen = 1;
    if (dec->shape != SH_KEY_SEEN)
        return shape_error(dec, "array");
    dec->shape = SH_IN_ARRAY;
    return 1;
}

static int cb_end_array(void *ctx)
{
    eos_proto_decoder *dec = ctx;
    dec->event_seen = 1;
    if (dec->shape != SH_IN_ARRAY)
        return shape_error(dec, "end of array");
    dec->shape = SH_ARRAY_DONE;
    return flush_batch(dec) < 0 ? 0 : 1;
}

static const yajl_callbacks callbacks = {
    cb_null,      cb_bool,    NULL,       NULL,           cb_number,    cb_string,
    cb_start_map, cb_map_key, cb_end_map, cb_start_array, cb_end_array,
};

/* ---- decoding: the state machine ---- */

void eos_proto_decoder_config_init(eos_proto_decoder_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_frame_size = EOS_PROTO_DEFAULT_MAX_FRAME;
}

int eos_proto_decoder_new(const eos_proto_decoder_config *cfg, eos_proto_decoder **out)
{
    eos_proto_decoder *dec = eos_malloc(sizeof *dec);
    if (!dec)
        return EOS_ENOMEM;
    memset(dec, 0, sizeof *dec);
    if (cfg)
        dec->cfg = *cfg;
    else
        eos_proto_decoder_config_init(&dec->cfg);
    if (dec->cfg.max_frame_size == 0 || dec->cfg.max_frame_size > EOS_PROTO_MAX_FRAME_LIMIT)
        dec->cfg.max_frame_size = EOS_PROTO_MAX_FRAME_LIMIT;
    eos_diag_init(&dec->pending);
    *out = dec;
    return 0;
}

static void drop_parser(eos_proto_decoder *dec)
{
    if (dec->yajl)
        yajl_free(dec->yajl);
    dec->yajl = NULL;
}

void eos_proto_decoder_free(eos_proto_decoder *dec)
{
    if (!dec)
        return;
    drop_parser(dec);
    eos_free(dec->bytes, dec->bytes_cap);
    eos_free(dec, sizeof *dec);
}

const uint8_t *eos_proto_decoder_bytes(const eos_proto_decoder *dec, size_t *out_size)
{
    *out_size = dec->bytes_len;
    return dec->bytes;
}

uint32_t eos_proto_decoder_frame_size(const eos_proto_decoder *dec)
{
    return dec->frame_size;
}

int eos_proto_decoder_in_frame(const eos_proto_decoder *dec)
{
    return dec->state == DEC_PAYLOAD || dec->state == DEC_SKIP ||
           (dec->state == DEC_HEADER && dec->header_have > 0);
}

static int go_dead(eos_proto_decoder *dec, int code)
{
    drop_parser(dec);
    dec->state = DEC_DEAD;
    dec->fatal_code = code;
    return code;
}

/* Starts the payload of a frame whose header is complete. */
static int begin_payload(eos_proto_decoder *dec, eos_diag *d)
{
    uint32_t len = eos_proto_get_u32be(dec->header);
    dec->frame_size = len;
    dec->header_have = 0;
    if (len > dec->cfg.max_frame_size) {
        eos_diag_set(d, EOS_ETOOBIG, "frame", 0,
                     "frame of %u bytes exceeds the maximum frame size of %zu bytes; closing "
                     "the connection (the server's limit is set with --max-frame-size)",
                     len, dec->cfg.max_frame_size);
        return go_dead(dec, EOS_ETOOBIG);
    }
    eos_diag_init(&dec->pending);
    dec->remaining = len;
    dec->shape = SH_START;
    dec->kind = EOS_PROTO_MSG_NONE;
    dec->pos = 0;
    dec->last_event = 0;
    dec->batch_len = 0;
    dec->bytes_len = 0;
    if (len == 0) {
        eos_diag_set(&dec->pending, EOS_EMALFORMED, "frame", 0,
                     "empty frame: the payload must be a JSON message such as \"Ping\"");
        dec->state = DEC_SKIP;
        return 0;
    }
    dec->yajl_oom = 0;
    dec->yajl = eos_proto__yajl_new(&callbacks, dec, &dec->yajl_oom);
    if (!dec->yajl) {
        eos_diag_set(d, EOS_ENOMEM, "frame", 0, "out of memory starting a frame parser");
        return go_dead(dec, EOS_ENOMEM);
    }
    /* Numbers reach cb_number as text; reject trailing values after the message. */
    dec->state = DEC_PAYLOAD;
    return 0;
}

/* Feeds payload bytes to yajl; on a parse failure switches to DEC_SKIP. */
static int feed_payload(eos_proto_decoder *dec, const uint8_t *in, size_t n, eos_diag *d)
{
    /* In pieces of at most 4 KiB, so "no parser event since" is measured
     * with that precision whatever the size of the caller's buffer. */
    while (n > 4096) {
        int rc = feed_payload(dec, in, 4096, d);
        if (rc < 0 || dec->state != DEC_PAYLOAD)
            return rc;
        in += 4096;
        n -= 4096;
    }
    dec->event_seen = 0;
    yajl_status st = yajl_parse(dec->yajl, in, n);
    if (dec->yajl_oom || dec->pending.code == EOS_ENOMEM) {
        eos_diag_set(d, EOS_ENOMEM, "frame", (int64_t)dec->pos, "out of memory parsing a frame");
        return go_dead(dec, EOS_ENOMEM);
    }
    if (st == yajl_status_error)
        eos_proto__yajl_error(dec->yajl, in, n,
                            (int64_t)(dec->pos + yajl_get_bytes_consumed(dec->yajl)),
                            &dec->pending);
    dec->pos += n;
    if (dec->event_seen)
        dec->last_event = dec->pos;
    if (st == yajl_status_ok && dec->pos - dec->last_event > MAX_TOKEN_GAP)
        eos_diag_set(&dec->pending, EOS_ELIMIT, "frame", (int64_t)dec->pos,
                     "frame holds a JSON token or whitespace run longer than %d bytes",
                     MAX_TOKEN_GAP);
    if (dec->pending.code) {
        drop_parser(dec);
        dec->state = DEC_SKIP;
    }
    return 0;
}

/* The last payload byte arrived: finish the parse and report the frame. */
static int end_payload(eos_proto_decoder *dec, eos_diag *d)
{
    dec->state = DEC_HEADER;
    if (dec->yajl && !dec->pending.code) {
        yajl_status st = yajl_complete_parse(dec->yajl);
        if (dec->yajl_oom) {
            eos_diag_set(d, EOS_ENOMEM, "frame", (int64_t)dec->pos, "out of memory");
            return go_dead(dec, EOS_ENOMEM);
        }
        if (st == yajl_status_error)
            eos_proto__yajl_error(dec->yajl, NULL, 0, (int64_t)dec->pos, &dec->pending);
        else if (dec->shape != SH_DONE && dec->shape != SH_UNIT_DONE)
            eos_diag_set(&dec->pending, EOS_EMALFORMED, "frame", (int64_t)dec->pos,
                         "incomplete message in frame of %u bytes", dec->frame_size);
    }
    drop_parser(dec);
    if (dec->pending.code) {
        *d = dec->pending; /* the frame was read whole: the stream stays usable */
        if (dec->pending.code == EOS_ENOMEM)
            return go_dead(dec, EOS_ENOMEM);
        return dec->pending.code == EOS_EAGAIN ? EOS_EMALFORMED : dec->pending.code;
    }
    return (int)dec->kind;
}

int eos_proto_decoder_feed(eos_proto_decoder *dec, const uint8_t *in, size_t size, size_t *out_used,
                         eos_diag *d)
{
    size_t used = 0;
    int rc = EOS_EAGAIN;
    if (dec->state == DEC_DEAD) {
        rc = eos_diag_set(d, dec->fatal_code, "frame", -1, "the frame stream already failed: %s",
                          eos_strerror(dec->fatal_code));
        goto out;
    }
    while (used < size) {
        if (dec->state == DEC_HEADER) {
            size_t take = 4 - dec->header_have;
            if (take > size - used)
                take = size - used;
            memcpy(dec->header + dec->header_have, in + used, take);
            dec->header_have += take;
            used += take;
            if (dec->header_have < 4)
                break;
            rc = begin_payload(dec, d);
            if (rc < 0)
                goto out;
            rc = EOS_EAGAIN;
        }
        size_t take = dec->remaining;
        if (take > size - used)
            take = size - used;
        if (dec->state == DEC_PAYLOAD && take) {
            rc = feed_payload(dec, in + used, take, d);
            if (rc < 0)
                goto out;
            rc = EOS_EAGAIN;
        }
        used += take;
        dec->remaining -= (uint32_t)take;
        if (dec->remaining == 0) {
            rc = end_payload(dec, d);
            goto out;
        }
    }
out:
    *out_used = used;
    return rc;
}

int eos_proto_decoder_dead(const eos_proto_decoder *dec)
{
    return dec->state == DEC_DEAD;
}
