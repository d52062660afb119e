/* Calls every SDK function once so that the component built from it imports every
 * host function the SDK declares: building it checks each hand-written import
 * signature against the canonical ABI lowering of the WIT (wit-component refuses a
 * mismatch). It is built and inspected only; it does not run. */
#include <stdio.h>
#include <stdlib.h>

#include <eos_app.h>

static void handle(eos_request *req, eos_response_out *out)
{
    char buf[64];
    size_t n;
    void *v;
    bool b;
    int64_t i;
    eos_bucket bucket;
    eos_key_list keys;
    eos_cas cas;
    eos_kv_entry *entries;
    const char *key_names[] = { "a", "b" };
    eos_kv_pair pairs[] = { { "a", "1", 1 } };
    const char *name, *value;

    eos_request_method(req);
    eos_request_path(req);
    eos_request_query(req);
    eos_request_path_with_query(req);
    eos_request_authority(req);
    eos_request_header(req, "host", &n);
    eos_request_header_count(req);
    eos_request_header_at(req, 0, &name, &value, &n);
    eos_request_read(req, buf, sizeof buf, &n);
    if (eos_request_read_all(req, 1024, &v, &n) == 0)
        free(v);

    if (eos_bucket_open("default", &bucket) == 0) {
        if (eos_bucket_get(&bucket, "k", &v, &n) == 0)
            free(v);
        eos_bucket_set(&bucket, "k", "v", 1);
        eos_bucket_exists(&bucket, "k", &b);
        eos_bucket_delete(&bucket, "k");
        if (eos_bucket_list_keys(&bucket, NULL, &keys) == 0)
            eos_key_list_free(&keys);
        eos_bucket_increment(&bucket, "n", 1, &i);
        if (eos_bucket_cas_begin(&bucket, "c", &cas, &v, &n) == 0) {
            free(v);
            eos_cas_swap(&cas, "x", 1);
        }
        if (eos_bucket_get_many(&bucket, key_names, 2, &entries) == 0)
            eos_kv_entries_free(entries, 2);
        eos_bucket_set_many(&bucket, pairs, 1);
        eos_bucket_delete_many(&bucket, key_names, 2);
        eos_bucket_close(&bucket);
    }
    eos_log(EOS_LOG_INFO, "abi", "message");
    eos_random_bytes(buf, sizeof buf);
    snprintf(buf, sizeof buf, "%llu %llu %llu %s", (unsigned long long)eos_random_u64(),
             (unsigned long long)eos_wall_clock(NULL), (unsigned long long)eos_monotonic_ns(),
             eos_env("APP_NAME") ? "named" : "unnamed");
    eos_response_header(out, "x-abi", "1");
    eos_response_start(out, 200);
    eos_response_write(out, buf, 1);
    eos_response_finish(out);
    eos_respond_text(out, 200, eos_app_strerror(0));
    eos_respond(out, 200, NULL, eos_app_error_detail(), 0);
}

EOS_HTTP_HANDLER(handle)
