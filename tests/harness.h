/* A small test harness: checks that print both sides (hex for buffers) on
 * mismatch, and a runner that counts failures. Each test file has a main()
 * that calls EOS_RUN(test_fn) for each test and returns eos_test_finish(). */
#ifndef EOS_TEST_HARNESS_H
#define EOS_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>

void eos_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void eos_test_fail_mem(const char *file, int line, const char *expr, const void *got,
                       size_t got_size, const void *want, size_t want_size);
void eos_test_run(const char *name, void (*fn)(void));
int eos_test_finish(void);
/* Makes the allocation number n (counting from 1 after this call) and every
 * later one fail when sticky, or only that one otherwise; n == 0 disables. */
void eos_test_fail_alloc_after(long n, int sticky);
long eos_test_alloc_count(void);

/* Reads a whole file into a malloc'd buffer with a NUL after its bytes
 * (free with free()); NULL when it cannot be read. */
uint8_t *eos_test_read_file(const char *path, size_t *out_size);
/* Replaces a whole file's contents with size bytes (borrowed); 0 or -1. */
int eos_test_write_file(const char *path, const void *data, size_t size);

#define EOS_RUN(fn) eos_test_run(#fn, fn)

#define EOS_CHECK(cond)                                                                    \
    do {                                                                                   \
        if (!(cond))                                                                       \
            eos_test_fail(__FILE__, __LINE__, "check failed: %s", #cond);                  \
    } while (0)

#define EOS_CHECK_INT(got, want)                                                           \
    do {                                                                                   \
        long long eos__g = (long long)(got), eos__w = (long long)(want);                   \
        if (eos__g != eos__w)                                                              \
            eos_test_fail(__FILE__, __LINE__, "%s: got %lld, want %lld", #got, eos__g,     \
                          eos__w);                                                         \
    } while (0)

#define EOS_CHECK_STR(got, want)                                                           \
    do {                                                                                   \
        const char *eos__g = (got), *eos__w = (want);                                      \
        if (!eos__g || !eos__w || strcmp(eos__g, eos__w) != 0)                             \
            eos_test_fail(__FILE__, __LINE__, "%s: got \"%s\", want \"%s\"", #got,         \
                          eos__g ? eos__g : "(null)", eos__w ? eos__w : "(null)");         \
    } while (0)

#define EOS_CHECK_MEM(got, got_size, want, want_size)                                      \
    eos_test_fail_mem(__FILE__, __LINE__, #got, (got), (got_size), (want), (want_size))

#endif
