/* The test harness behind tests/harness.h, with a counting allocator that
 * can fail on demand so every out-of-memory path can be exercised. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eos/common.h"
#include "harness.h"

static int failures;
static int current_failed;
static int tests_run;
static long alloc_count;
static long fail_at;
static int fail_sticky;

void eos_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "  FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    current_failed = 1;
}

static void dump_hex(const char *label, const uint8_t *p, size_t n)
{
    fprintf(stderr, "    %s (%zu bytes):", label, n);
    for (size_t i = 0; i < n && i < 256; i++)
        fprintf(stderr, "%s%02x", i % 32 == 0 ? "\n      " : " ", p[i]);
    fprintf(stderr, "%s\n", n > 256 ? " ..." : "");
}

void eos_test_fail_mem(const char *file, int line, const char *expr, const void *got,
                       size_t got_size, const void *want, size_t want_size)
{
    if (got_size == want_size && (got_size == 0 || memcmp(got, want, got_size) == 0))
        return;
    eos_test_fail(file, line, "%s: bytes differ", expr);
    dump_hex("got", got, got_size);
    dump_hex("want", want, want_size);
}

static void *counting_alloc(void *ud, void *ptr, size_t old_size, size_t new_size)
{
    (void)ud;
    (void)old_size;
    if (new_size == 0) {
        free(ptr);
        return NULL;
    }
    /* Atomic so that multi-threaded tests count correctly. */
    long n = __atomic_add_fetch(&alloc_count, 1, __ATOMIC_RELAXED);
    if (fail_at && (n == fail_at || (fail_sticky && n > fail_at)))
        return NULL;
    return realloc(ptr, new_size);
}

void eos_test_fail_alloc_after(long n, int sticky)
{
    eos_set_allocator(counting_alloc, NULL);
    alloc_count = 0;
    fail_at = n;
    fail_sticky = sticky;
}

long eos_test_alloc_count(void)
{
    return alloc_count;
}

void eos_test_run(const char *name, void (*fn)(void))
{
    current_failed = 0;
    tests_run++;
    fn();
    eos_test_fail_alloc_after(0, 0);
    fprintf(stderr, "%s %s\n", current_failed ? "FAIL" : "ok  ", name);
    failures += current_failed;
}

int eos_test_finish(void)
{
    fprintf(stderr, "%d passed, %d failed\n", tests_run - failures, failures);
    return failures ? 1 : 0;
}

uint8_t *eos_test_read_file(const char *path, size_t *out_size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[n] = 0;
    *out_size = (size_t)n;
    return buf;
}

int eos_test_write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int rc = fwrite(data, 1, size, f) == size ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}
