/* Tampering the encrypted store detects while an app reads is counted and
 * logged with the app's namespace and a hash of the key, not only returned
 * to the app: a record moved to another key fails authentication. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eos/apps.h"
#include "eos/kv.h"
#include "eos/wasi.h"
#include "harness.h"
#include "kv_testutil.h"

#define NS_NAME "app:t/kv:b"

static void test_moved_record_is_counted(void)
{
    eos_tee *tee = tee_double_new(0x31);
    char *dir = kvt_mkdtemp();
    eos_kv *kv = kvt_open(dir, tee);
    eos_wasi_store st = eos_apps_wasi_store(kv);
    eos_wasi_store_ns *h = NULL;
    EOS_CHECK_INT(st.ops->ns_open(st.impl, NS_NAME, &h), 0);
    EOS_CHECK_INT(st.ops->set(h, "one", 3, (const uint8_t *)"1", 1), 0);
    EOS_CHECK_INT(st.ops->set(h, "two", 3, (const uint8_t *)"2", 1), 0);
    unsigned long long before = eos_apps_tamper_count();

    eos_kv_ns *ns = NULL;
    EOS_CHECK_INT(eos_kv_ns_open(kv, NS_NAME, &ns, NULL), 0);
    size_t n = 0;
    uint8_t *raw = kvt_raw_record(kv, ns, "two", &n);
    kvt_put_raw(kv, ns, "one", raw, n); /* "two"'s record under "one" */
    free(raw);
    eos_kv_ns_close(ns);

    uint8_t *v = NULL;
    size_t vn = 0;
    EOS_CHECK_INT(st.ops->get(h, "one", 3, &v, &vn), EOS_ECORRUPT);
    EOS_CHECK(v == NULL);
    EOS_CHECK(eos_apps_tamper_count() == before + 1);
    /* An intact record is read as before and counts nothing. */
    EOS_CHECK_INT(st.ops->get(h, "two", 3, &v, &vn), 0);
    EOS_CHECK_MEM(v, vn, "2", 1);
    eos_free(v, vn);
    EOS_CHECK(eos_apps_tamper_count() == before + 1);
    st.ops->ns_close(h);
    eos_kv_close(kv);
    kvt_rmdir(dir);
    eos_tee_free(tee);
}

int main(void)
{
    EOS_RUN(test_moved_record_is_counted);
    return eos_test_finish();
}
