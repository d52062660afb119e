/* The error table, the diagnostic record, hex helpers and the allocator hook. */
#include <string.h>

#include "eos/common.h"
#include "harness.h"

static void test_strerror_names_every_code(void)
{
    EOS_CHECK_STR(eos_strerror(0), "success");
    EOS_CHECK_STR(eos_err_name(EOS_ENOMEM), "EOS_ENOMEM");
    EOS_CHECK_STR(eos_strerror(EOS_TRAP_OUT_OF_FUEL), "out of fuel");
    EOS_CHECK_STR(eos_strerror(12345), "unknown error");
    EOS_CHECK_STR(eos_err_name(-99999), "EOS_UNKNOWN");
}

static void test_trap_range(void)
{
    EOS_CHECK(eos_is_trap(EOS_TRAP_UNREACHABLE));
    EOS_CHECK(eos_is_trap(EOS_TRAP_MEMORY_LIMIT));
    EOS_CHECK(!eos_is_trap(EOS_ENOMEM));
    EOS_CHECK(!eos_is_trap(0));
}

static void test_diag_keeps_first_failure(void)
{
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_diag_set(&d, EOS_EMALFORMED, "code section", 42, "bad %s", "opcode"),
                  EOS_EMALFORMED);
    EOS_CHECK_INT(eos_diag_set(&d, EOS_ENOMEM, "later", 7, "ignored"), EOS_ENOMEM);
    EOS_CHECK_INT(d.code, EOS_EMALFORMED);
    EOS_CHECK_STR(d.step, "code section");
    EOS_CHECK_INT(d.offset, 42);
    EOS_CHECK_STR(d.message, "bad opcode");
    EOS_CHECK_INT(eos_diag_set(NULL, EOS_EIO, NULL, -1, NULL), EOS_EIO);
}

static void test_hex_round_trip(void)
{
    const uint8_t in[] = {0x00, 0x7f, 0xab, 0xff};
    char hex[9];
    uint8_t out[4];
    eos_hex_encode(in, sizeof in, hex);
    EOS_CHECK_STR(hex, "007fabff");
    EOS_CHECK_INT(eos_hex_decode("007FABff", out, sizeof out), 0);
    EOS_CHECK_MEM(out, sizeof out, in, sizeof in);
    EOS_CHECK_INT(eos_hex_decode("007fabf", out, sizeof out), EOS_EINVAL);
    EOS_CHECK_INT(eos_hex_decode("007fabffee", out, sizeof out), EOS_EINVAL);
    EOS_CHECK_INT(eos_hex_decode("zz7fabff", out, sizeof out), EOS_EINVAL);
}

static void test_allocator_failure_injection(void)
{
    eos_test_fail_alloc_after(2, 0);
    void *a = eos_malloc(8);
    void *b = eos_malloc(8);
    void *c = eos_malloc(8);
    EOS_CHECK(a != NULL);
    EOS_CHECK(b == NULL);
    EOS_CHECK(c != NULL);
    eos_free(a, 8);
    eos_free(c, 8);
    EOS_CHECK(eos_calloc(SIZE_MAX / 2, 4) == NULL);
}

int main(void)
{
    EOS_RUN(test_strerror_names_every_code);
    EOS_RUN(test_trap_range);
    EOS_RUN(test_diag_keeps_first_failure);
    EOS_RUN(test_hex_round_trip);
    EOS_RUN(test_allocator_failure_injection);
    return eos_test_finish();
}
