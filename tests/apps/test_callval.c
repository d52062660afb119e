/* The wasm_call JSON mapping (SPEC 3.1): each kind of component value from
 * JSON and back, the spelled-out special cases (64-bit integers beyond 2^53,
 * NaN and infinities, nested options, variants without payload), and values
 * that do not fit their type. */
#include <stdio.h>
#include <string.h>

#include "../../src/apps/internal.h"
#include "callval_types.h"
#include "harness.h"

static const eos_cm_functype *ft;

static char *roundtrip(const char *json, int *rc)
{
    char *out = NULL;
    size_t size = 0;
    char err[256] = "";
    *rc = eos_apps__params_roundtrip(ft, json, strlen(json), &out, &size, err, sizeof err);
    if (*rc < 0 && err[0])
        fprintf(stderr, "  (%s)\n", err);
    return out;
}

#define GOOD                                                                                       \
    "true, -128, \"18446744073709551615\", 9007199254740993, 1.5, \"NaN\", \"é\", \"s\", "         \
    "[0, 255], [\"a\"], [1, \"x\"], {\"x\": 1, \"y\": -2}, {\"rect\": [2, 3]}, \"blue\", "         \
    "null, {\"some\": null}, {\"ok\": 7}, {\"err\": null}, [\"read\", \"exec\"]"

static void test_good_values(void)
{
    int rc;
    char *out = roundtrip("[" GOOD "]", &rc);
    EOS_CHECK_INT(rc, 0);
    EOS_CHECK_STR(out ? out : "",
                  "[true,-128,\"18446744073709551615\",\"9007199254740993\",1.5,\"NaN\",\"é\","
                  "\"s\",[0,255],[\"a\"],[1,\"x\"],{\"x\":1,\"y\":-2},{\"rect\":[2,3]},\"blue\","
                  "null,{\"some\":null},{\"ok\":7},{\"err\":null},[\"read\",\"exec\"]]");
    if (out)
        eos_free(out, strlen(out) + 1);
    out = roundtrip("[false, 0, 1, -1, \"inf\", \"-inf\", \"x\", \"\", [], [], [0, \"\"], "
                    "{\"x\": 0, \"y\": 0}, \"empty\", \"red\", 5, {\"some\": 4}, {\"err\": \"e\"}, "
                    "{\"ok\": null}, []]",
                    &rc);
    EOS_CHECK_INT(rc, 0);
    EOS_CHECK_STR(out ? out : "",
                  "[false,0,1,-1,\"inf\",\"-inf\",\"x\",\"\",[],[],[0,\"\"],{\"x\":0,\"y\":0},"
                  "\"empty\",\"red\",5,{\"some\":4},{\"err\":\"e\"},{\"ok\":null},[]]");
    if (out)
        eos_free(out, strlen(out) + 1);
}

static void test_bad_values(void)
{
    /* Each replaces one parameter of a good list with something that does not fit. */
    static const char *const bad[] = {
        "[1, -128, 0, 0, 1, 1, \"a\", \"s\", [], [], [1, \"x\"], {\"x\": 1, \"y\": 1}, \"empty\", "
        "\"red\", null, null, {\"ok\": 1}, {\"ok\": null}, []]", /* bool as number */
        "[true, -129, 0, 0, 1, 1, \"a\", \"s\", [], [], [1, \"x\"], {\"x\": 1, \"y\": 1}, "
        "\"empty\", \"red\", null, null, {\"ok\": 1}, {\"ok\": null}, []]", /* s8 range */
        "[true, 1, -1, 0, 1, 1, \"a\", \"s\", [], [], [1, \"x\"], {\"x\": 1, \"y\": 1}, \"empty\", "
        "\"red\", null, null, {\"ok\": 1}, {\"ok\": null}, []]", /* u64 negative */
        "[true, 1, 0, 0, 1, 1, \"ab\", \"s\", [], [], [1, \"x\"], {\"x\": 1, \"y\": 1}, "
        "\"empty\", \"red\", null, null, {\"ok\": 1}, {\"ok\": null}, []]", /* two chars */
        "[true, 1, 0, 0, 1, 1, \"a\", \"s\", [256], [], [1, \"x\"], {\"x\": 1, \"y\": 1}, "
        "\"empty\", \"red\", null, null, {\"ok\": 1}, {\"ok\": null}, []]", /* byte range */
        "[true, 1, 0, 0, 1, 1, \"a\", \"s\", [], [], [1], {\"x\": 1, \"y\": 1}, \"empty\", "
        "\"red\", null, null, {\"ok\": 1}, {\"ok\": null}, []]", /* tuple length */
        "[true, 1, 0, 0, 1, 1, \"a\", \"s\", [], [], [1, \"x\"], {\"x\": 1}, \"empty\", \"red\", "
        "null, null, {\"ok\": 1}, {\"ok\": null}, []]", /* missing field */
        "[true, 1, 0, 0, 1, 1, \"a\", \"s\", [], [], [1, \"x\"], {\"x\": 1, \"y\": 1}, "
        "\"square\", \"red\", null, null, {\"ok\": 1}, {\"ok\": null}, []]", /* no payload */
        "[true, 1, 0, 0, 1, 1, \"a\", \"s\", [], [], [1, \"x\"], {\"x\": 1, \"y\": 1}, \"empty\", "
        "\"pink\", null, null, {\"ok\": 1}, {\"ok\": null}, []]", /* enum case */
        "[true, 1, 0, 0, 1, 1, \"a\", \"s\", [], [], [1, \"x\"], {\"x\": 1, \"y\": 1}, \"empty\", "
        "\"red\", null, 3, {\"ok\": 1}, {\"ok\": null}, []]", /* nested option unwrapped */
        "[true, 1, 0, 0, 1, 1, \"a\", \"s\", [], [], [1, \"x\"], {\"x\": 1, \"y\": 1}, \"empty\", "
        "\"red\", null, null, {\"maybe\": 1}, {\"ok\": null}, []]", /* result case */
        "[true, 1, 0, 0, 1, 1, \"a\", \"s\", [], [], [1, \"x\"], {\"x\": 1, \"y\": 1}, \"empty\", "
        "\"red\", null, null, {\"ok\": 1}, {\"ok\": null}, [\"fly\"]]", /* flag name */
        "[true]",                                                        /* too few */
        "{}",                                                            /* not an array */
        "[",                                                             /* not JSON */
    };
    for (size_t i = 0; i < EOS_ARRAY_LEN(bad); i++) {
        int rc;
        char *out = roundtrip(bad[i], &rc);
        if (rc != EOS_EINVAL)
            fprintf(stderr, "  case %zu accepted\n", i);
        EOS_CHECK_INT(rc, EOS_EINVAL);
        EOS_CHECK(out == NULL);
    }
}

int main(void)
{
    eos_cm_types *ts = NULL;
    eos_diag d;
    eos_diag_init(&d);
    if (eos_cm_types_new(&ts) < 0 || eos_cm_types_declare(ts, CALLVAL_WIT, &d) < 0 ||
        eos_cm_types_parse_func(ts, CALLVAL_SIG, &ft, &d) < 0) {
        fprintf(stderr, "cannot build the test types: %s\n", d.message);
        return 1;
    }
    EOS_RUN(test_good_values);
    EOS_RUN(test_bad_values);
    eos_cm_types_free(ts);
    return eos_test_finish();
}
