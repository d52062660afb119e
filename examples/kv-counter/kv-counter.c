/* Counts requests per path in the app's encrypted key-value store: each request
 * increments the counter of its path and answers the new value. GET /_counters
 * lists every counter. Each step is logged through wasi:logging. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <eos_app.h>

#define PREFIX "count:"

static void fail(eos_response_out *out, const char *what, int err)
{
    eos_logf(EOS_LOG_ERROR, "kv-counter", "%s: %s %s", what, eos_app_strerror(err),
             eos_app_error_detail());
    eos_respond_text(out, 500, "the store failed; see the server log\n");
}

/* Answers "path count" lines for every counter, one listing page at a time. */
static void list_counters(eos_bucket *bucket, eos_response_out *out)
{
    eos_key_list page;
    char *cursor = NULL;
    int err = eos_response_start(out, 200);
    while (!err && (err = eos_bucket_list_keys(bucket, cursor, &page)) == EOS_APP_OK) {
        for (size_t i = 0; !err && i < page.count; i++) {
            int64_t value;
            char line[512];
            if (strncmp(page.keys[i], PREFIX, strlen(PREFIX)) != 0)
                continue;
            /* Adding zero reads the counter in the store's own integer encoding. */
            err = eos_bucket_increment(bucket, page.keys[i], 0, &value);
            if (!err) {
                int n = snprintf(line, sizeof line, "%s %" PRId64 "\n",
                                 page.keys[i] + strlen(PREFIX), value);
                err = eos_response_write(out, line,
                                         n < (int)sizeof line ? (size_t)n : sizeof line - 1);
            }
        }
        free(cursor);
        cursor = page.cursor;
        page.cursor = NULL;
        eos_key_list_free(&page);
        if (!cursor)
            break;
    }
    free(cursor);
    if (err)
        eos_logf(EOS_LOG_ERROR, "kv-counter", "listing: %s", eos_app_strerror(err));
    eos_response_finish(out);
}

static void handle(eos_request *req, eos_response_out *out)
{
    const char *path = eos_request_path(req);
    eos_bucket bucket;
    int64_t count;
    char key[512], body[32];

    int err = eos_bucket_open("default", &bucket);
    if (err) {
        fail(out, "open", err);
        return;
    }
    if (strcmp(path, "/_counters") == 0) {
        list_counters(&bucket, out);
        eos_bucket_close(&bucket);
        return;
    }
    snprintf(key, sizeof key, PREFIX "%s", path);
    err = eos_bucket_increment(&bucket, key, 1, &count);
    eos_bucket_close(&bucket);
    if (err) {
        fail(out, "increment", err);
        return;
    }
    eos_logf(EOS_LOG_INFO, "kv-counter", "%s -> %" PRId64, path, count);
    snprintf(body, sizeof body, "%" PRId64 "\n", count);
    eos_respond_text(out, 200, body);
}

EOS_HTTP_HANDLER(handle)
