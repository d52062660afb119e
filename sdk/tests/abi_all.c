/* A self-test of the SDK that calls every SDK function. Building it checks every
 * import signature the SDK declares against the WIT (wit-component refuses a
 * mismatch); running it (examples.sdk-abi.serve, under jco serve with the keyvalue
 * and logging stand-ins) checks the return-area layouts: `POST /self?q=1` with
 * header x-test: abc and body "hello body" answers one "ok"/"FAIL" line per check,
 * then "<n> failed". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <eos_app.h>

static eos_response_out *resp;
static int failures;

static void check(int ok, const char *what)
{
    char line[200];
    int n = snprintf(line, sizeof line, "%s %s\n", ok ? "ok  " : "FAIL", what);
    failures += !ok;
    eos_response_write(resp, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static int value_is(void *v, size_t n, const char *want)
{
    int same = v && n == strlen(want) && memcmp(v, want, n) == 0;
    free(v);
    return same;
}

static void check_request(eos_request *req)
{
    size_t n;
    void *body;
    const char *name, *value;

    check(strcmp(eos_request_method(req), "POST") == 0, "method");
    check(strcmp(eos_request_path(req), "/self") == 0, "path");
    check(strcmp(eos_request_query(req), "q=1") == 0, "query");
    check(strcmp(eos_request_path_with_query(req), "/self?q=1") == 0, "path with query");
    check(strncmp(eos_request_authority(req), "127.0.0.1", 9) == 0, "authority");
    value = eos_request_header(req, "X-Test", &n);
    check(value && n == 3 && strcmp(value, "abc") == 0, "header (case-insensitive)");
    check(eos_request_header(req, "x-absent", NULL) == NULL, "absent header");
    check(eos_request_header_count(req) >= 2, "header count");
    check(eos_request_header_at(req, 0, &name, &value, &n) == 0 && name[0], "header at 0");
    check(eos_request_header_at(req, 1000, &name, &value, &n) == EOS_APP_EINVAL, "header at 1000");
    check(eos_request_read_all(req, 1024, &body, &n) == 0 && value_is(body, n, "hello body"),
          "body");
}

static void check_store(void)
{
    eos_bucket b, none;
    void *v;
    size_t n;
    bool exists;
    int64_t count;
    eos_cas cas;
    eos_key_list page;
    eos_kv_entry *entries;
    const char *keys[] = {"a", "missing", "k2"};
    eos_kv_pair pairs[] = {{"a", "1", 1}, {"k2", "22", 2}};

    check(eos_bucket_open("nope", &none) == EOS_APP_ENOSTORE, "open unknown store");
    if (eos_bucket_open("default", &b) != 0) {
        check(0, "open default");
        return;
    }
    check(eos_bucket_set(&b, "k", "v", 1) == 0, "set");
    check(eos_bucket_get(&b, "k", &v, &n) == 0 && value_is(v, n, "v"), "get");
    check(eos_bucket_exists(&b, "k", &exists) == 0 && exists, "exists");
    check(eos_bucket_delete(&b, "k") == 0, "delete");
    check(eos_bucket_get(&b, "k", &v, &n) == EOS_APP_ENOTFOUND && !v, "get after delete");
    check(eos_bucket_exists(&b, "k", &exists) == 0 && !exists, "exists after delete");
    check(eos_bucket_increment(&b, "n", 5, &count) == 0 && count == 5, "increment");
    check(eos_bucket_increment(&b, "n", -7, &count) == 0 && count == -2, "increment negative");
    check(eos_bucket_cas_begin(&b, "c", &cas, &v, &n) == 0 && !v, "cas on absent key");
    check(eos_cas_swap(&cas, "x", 1) == 0, "cas swap");
    check(eos_bucket_cas_begin(&b, "c", &cas, &v, &n) == 0 && value_is(v, n, "x"), "cas current");
    eos_bucket_set(&b, "c", "y", 1);
    check(eos_cas_swap(&cas, "z", 1) == EOS_APP_ECONFLICT, "cas conflict");
    check(eos_bucket_cas_begin(&b, "c", &cas, &v, &n) == 0 && value_is(v, n, "y"), "cas again");
    eos_cas_abort(&cas);
    check(eos_bucket_set_many(&b, pairs, 2) == 0, "set many");
    if (eos_bucket_get_many(&b, keys, 3, &entries) == 0) {
        check(entries[0].found && entries[0].size == 1 && !memcmp(entries[0].value, "1", 1) &&
                  !entries[1].found && entries[2].found && entries[2].size == 2 &&
                  !memcmp(entries[2].value, "22", 2),
              "get many");
        eos_kv_entries_free(entries, 3);
    } else {
        check(0, "get many");
    }
    size_t total = 0, pages = 0;
    char *cursor = NULL;
    while (eos_bucket_list_keys(&b, cursor, &page) == 0) {
        total += page.count;
        pages++;
        free(cursor);
        cursor = page.cursor;
        page.cursor = NULL;
        eos_key_list_free(&page);
        if (!cursor)
            break;
    }
    free(cursor);
    check(total == 4 && pages >= 2, "list keys over pages (a, c, k2, n)");
    check(eos_bucket_delete_many(&b, keys, 3) == 0, "delete many");
    check(eos_bucket_get(&b, "k2", &v, &n) == EOS_APP_ENOTFOUND, "get after delete many");
    eos_bucket_close(&b);
}

static void check_system(void)
{
    unsigned char buf[64] = {0};
    unsigned char zero[64] = {0};
    uint32_t nanos = 1u << 31;

    check(eos_random_bytes(buf, sizeof buf) == 0 && memcmp(buf, zero, sizeof buf) != 0,
          "random bytes");
    check(eos_random_u64() != eos_random_u64(), "random u64");
    check(eos_wall_clock(&nanos) > 1700000000u && nanos < 1000000000u, "wall clock");
    uint64_t t0 = eos_monotonic_ns();
    check(eos_monotonic_ns() >= t0, "monotonic clock");
    const char *v = eos_env("EOS_SELFTEST");
    check(v && strcmp(v, "yes") == 0, "environment");
    check(eos_env("EOS_ABSENT_VARIABLE") == NULL, "absent environment variable");
    eos_log(EOS_LOG_INFO, "abi", "self-test message");
    eos_logf(EOS_LOG_DEBUG, NULL, "formatted %d", 42);
    check(strcmp(eos_app_strerror(EOS_APP_ECONFLICT),
                 "the value changed since it was read (compare-and-swap)") == 0,
          "strerror");
    check(eos_app_error_detail() != NULL, "error detail");
}

/* Outgoing calls without a network: URL parsing, building, and a call to a port
 * nothing listens on, which must fail with an error-code (the host says which). */
static void check_outgoing(void)
{
    eos_outgoing *c = NULL;
    const char *name, *value;
    size_t n;
    int status = -1;
    void *body;

    check(eos_outgoing_new("GET", "ftp://x/", &c) == EOS_APP_EINVAL && !c, "outgoing: bad scheme");
    check(eos_outgoing_new("GET", "http:///x", &c) == EOS_APP_EINVAL, "outgoing: no authority");
    check(eos_outgoing_new("PROPFIND", "http://127.0.0.1:1?x=1", &c) == 0 && c, "outgoing: new");
    check(eos_outgoing_header(c, "x-test", "1") == 0, "outgoing: header");
    check(eos_outgoing_header(c, "bad name", "1") == EOS_APP_EINVAL, "outgoing: bad header");
    check(eos_outgoing_timeouts(c, 2000, 2000, 2000) == 0, "outgoing: timeouts");
    check(eos_outgoing_error(c) == EOS_HTTP_ERR_NONE, "outgoing: no error yet");
    check(eos_outgoing_response(c, &status) == EOS_APP_ESTATE, "outgoing: response before send");
    int sent = eos_outgoing_send(c, true);
    if (sent == 0) {
        eos_outgoing_write(c, "abc", 3);
        eos_outgoing_end_body(c);
        sent = eos_outgoing_response(c, &status);
    }
    check(sent == EOS_APP_EHTTP && eos_outgoing_error(c) != EOS_HTTP_ERR_NONE,
          "outgoing: a refused call has an error-code");
    check(eos_outgoing_read(c, &status, sizeof status, &n) == EOS_APP_EHTTP, "outgoing: read");
    check(eos_outgoing_response_header(c, "x", NULL) == NULL &&
              eos_outgoing_response_header_count(c) == 0 &&
              eos_outgoing_response_header_at(c, 0, &name, &value, &n) == EOS_APP_EINVAL,
          "outgoing: no response headers");
    check(eos_outgoing_read_all(c, 10, &body, &n) == EOS_APP_EHTTP, "outgoing: read all");
    eos_outgoing_free(c);
    c = NULL;
    check(eos_fetch("GET", "http://127.0.0.1:1/", NULL, NULL, 0, 10, &c, &body, &n) ==
              EOS_APP_EHTTP, "outgoing: fetch");
    eos_outgoing_free(c);
    check(strcmp(eos_http_error_name(EOS_HTTP_ERR_CONNECTION_REFUSED), "connection-refused") == 0 &&
              strcmp(eos_http_error_name(EOS_HTTP_ERR_INTERNAL_ERROR), "internal-error") == 0 &&
              strcmp(eos_http_error_name(EOS_HTTP_ERR_NONE), "none") == 0,
          "outgoing: error names");
}

static void handle(eos_request *req, eos_response_out *out)
{
    resp = out;
    failures = 0;
    /* Results stream out as they come, so the status is sent first and the count of
     * failures ends the body. */
    int header_ok = eos_response_header(out, "x-selftest", "1") == 0;
    int bad_header = eos_response_header(out, "bad name", "1");
    eos_response_start(out, 200);
    check(header_ok, "response header");
    check(bad_header == EOS_APP_EINVAL, "invalid header name refused");
    check(eos_response_header(out, "late", "1") == EOS_APP_ESTATE, "header after start");
    check_request(req);
    check_store();
    check_system();
    check_outgoing();
    char line[64];
    snprintf(line, sizeof line, "%d failed\n", failures);
    eos_response_write(out, line, strlen(line));
    /* Past this point the body is closed: these calls only complete the set of
     * functions the build checks. */
    eos_response_finish(out);
    eos_respond_text(out, 200, "again");
    eos_respond(out, 200, NULL, NULL, 0);
}

EOS_HTTP_HANDLER(handle)
