/* The child of test_crash: writes numbered records as fast as it can and
 * acknowledges each on stdout only after the store said it is durable.
 * Usage: kv_crash_writer DIR FIRST. Every fourth record is written in a
 * transaction together with a "pair/" twin (which also gets a directory
 * index entry), to check atomicity too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eos/kv.h"
#include "kv_crash_common.h"
#include "kv_testutil.h"

int main(int argc, char **argv)
{
    eos_kv *kv = NULL;
    eos_kv_ns *ns = NULL;
    eos_diag d;
    uint8_t val[KV_CRASH_MAX_VALUE];
    char key[32], pair[32], line[32];
    if (argc != 3)
        return 2;
    eos_log_set_level(EOS_LOG_WARN);
    eos_tee *tee = tee_double_new(KV_CRASH_TEE_KEY);
    eos_kv_config cfg = {.data_dir = argv[1], .tee = tee, .initial_map_size = 1 << 20};
    eos_diag_init(&d);
    if (eos_kv_open(&cfg, &kv, &d) != 0 || eos_kv_ns_open(kv, "app:crash", &ns, &d) != 0) {
        fprintf(stderr, "writer: %s\n", d.message);
        return 1;
    }
    for (long n = atol(argv[2]);; n++) {
        size_t size = kv_crash_value(n, val);
        int rc;
        snprintf(key, sizeof key, "rec:%ld", n);
        if (n % 4 == 0) {
            eos_kv_txn *t = NULL;
            snprintf(pair, sizeof pair, "pair/%ld", n);
            rc = eos_kv_txn_begin(kv, &t, &d);
            if (rc == 0 && (rc = eos_kv_txn_set(t, ns, key, strlen(key), val, size, &d)) == 0 &&
                (rc = eos_kv_txn_set(t, ns, pair, strlen(pair), val, size, &d)) == 0)
                rc = eos_kv_txn_commit(t, &d);
            else
                eos_kv_txn_abort(t);
        } else {
            rc = eos_kv_set(ns, key, strlen(key), val, size, &d);
        }
        if (rc != 0) {
            fprintf(stderr, "writer: record %ld: %s\n", n, d.message);
            return 1;
        }
        int len = snprintf(line, sizeof line, "%ld\n", n);
        if (write(1, line, (size_t)len) != len)
            return 1;
    }
}
