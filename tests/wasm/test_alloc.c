/* Out-of-memory injection: every allocation made while decoding, validating,
 * instantiating and calling the test module fails in turn; each run must end
 * with a clean EOS_ENOMEM (or success once no allocation is left to fail) and
 * free everything (checked by ASan's leak detector). */
#include <string.h>

#include "harness.h"
#include "wasm_test.h"

static int run_once(const uint8_t *bytes, size_t size)
{
    eos_wasm_module *m = NULL;
    eos_wasm_store *s = NULL;
    eos_wasm_instance *inst;
    const char *target = "inner";
    int32_t out = 0;
    int rc = eos_wasm_module_new(bytes, size, NULL, &m, NULL);
    if (rc == 0)
        rc = eos_wasm_store_new(NULL, &s);
    if (rc == 0)
        rc = wt_instantiate(s, m, &target, &inst, NULL);
    if (rc == 0)
        rc = wt_call1(s, inst, "fib", 10, &out);
    if (rc == 0 && out != 55)
        rc = EOS_EINVAL;
    eos_wasm_store_free(s);
    eos_wasm_module_free(m);
    return rc;
}

static void test_each_allocation_fails(void)
{
    size_t size = 0;
    uint8_t *bytes = wt_read(EOS_TEST_API_WASM, &size);
    EOS_CHECK(bytes != NULL);
    long n;
    for (n = 1; n < 10000; n++) {
        eos_test_fail_alloc_after(n, 0);
        int rc = run_once(bytes, size);
        long count = eos_test_alloc_count();
        eos_test_fail_alloc_after(0, 0);
        if (count < n) {
            EOS_CHECK_INT(rc, 0); /* nothing failed: the full run succeeded */
            break;
        }
        if (rc != EOS_ENOMEM)
            EOS_CHECK_INT(rc, EOS_ENOMEM);
    }
    EOS_CHECK(n > 10);
    /* Sticky failure from each point on as well. */
    for (long k = 1; k < n; k++) {
        eos_test_fail_alloc_after(k, 1);
        int rc = run_once(bytes, size);
        eos_test_fail_alloc_after(0, 0);
        if (rc != EOS_ENOMEM)
            EOS_CHECK_INT(rc, EOS_ENOMEM);
    }
    free(bytes);
}

int main(void)
{
    EOS_RUN(test_each_allocation_fails);
    return eos_test_finish();
}
