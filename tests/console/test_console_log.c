/* The console's live log: the ring keeps the last lines with their ids and
 * renders the ones after a Last-Event-ID as server-sent events; the log tap
 * feeds it every line logged. */
#include <stdio.h>
#include <string.h>

#include "eos/console.h"
#include "harness.h"

static char *events(eos_console_log *l, uint64_t after, size_t max, size_t *size)
{
    char *out = NULL;
    EOS_CHECK_INT(eos_console_log_events(l, after, 1500, max, &out, size), 0);
    return out;
}

static void test_ring(void)
{
    eos_console_log *l = NULL;
    EOS_CHECK_INT(eos_console_log_new(3, &l), 0);
    if (!l)
        return;
    size_t n = 0;
    char *e = events(l, 0, 0, &n);
    EOS_CHECK_STR(e, "retry: 1500\n\n");
    eos_free(e, n + 1);
    eos_console_log_append(l, "one", 3);
    eos_console_log_append(l, "two\nlines", 9);
    e = events(l, 0, 0, &n);
    EOS_CHECK_STR(e, "retry: 1500\n\nid: 1\ndata: one\n\nid: 2\ndata: two lines\n\n");
    EOS_CHECK_INT(n, strlen(e));
    eos_free(e, n + 1);
    e = events(l, 1, 0, &n);
    EOS_CHECK_STR(e, "retry: 1500\n\nid: 2\ndata: two lines\n\n");
    eos_free(e, n + 1);
    /* Wrapping: only the last three are kept. */
    eos_console_log_append(l, "three", 5);
    eos_console_log_append(l, "four", 4);
    e = events(l, 0, 0, &n);
    EOS_CHECK_STR(e, "retry: 1500\n\nid: 2\ndata: two lines\n\nid: 3\ndata: three\n\n"
                     "id: 4\ndata: four\n\n");
    eos_free(e, n + 1);
    e = events(l, 0, 1, &n);
    EOS_CHECK_STR(e, "retry: 1500\n\nid: 4\ndata: four\n\n");
    eos_free(e, n + 1);
    /* Up to date, or an id from a previous run of the server. */
    e = events(l, 4, 0, &n);
    EOS_CHECK_STR(e, "retry: 1500\n\n");
    eos_free(e, n + 1);
    e = events(l, 99, 0, &n);
    EOS_CHECK_STR(e, "retry: 1500\n\n");
    eos_free(e, n + 1);
    eos_console_log_free(l);
}

static void test_tap(void)
{
    eos_console_log *l = NULL;
    EOS_CHECK_INT(eos_console_log_new(0, &l), 0);
    if (!l)
        return;
    eos_log_set_tap(eos_console_log_tap(l));
    EOS_INFO("test", "hello %d", 42);
    eos_log_set_tap(NULL);
    EOS_INFO("test", "not kept");
    size_t n = 0;
    char *e = events(l, 0, 0, &n);
    EOS_CHECK(e && strstr(e, "id: 1\ndata: ") && strstr(e, "INFO  [test] hello 42\n\n"));
    EOS_CHECK(e && !strstr(e, "not kept"));
    eos_free(e, n + 1);
    eos_console_log_free(l);
}

static void test_out_of_memory(void)
{
    eos_console_log *l = NULL;
    eos_test_fail_alloc_after(1, 1);
    EOS_CHECK_INT(eos_console_log_new(4, &l), EOS_ENOMEM);
    eos_test_fail_alloc_after(0, 0);
    EOS_CHECK_INT(eos_console_log_new(4, &l), 0);
    eos_test_fail_alloc_after(1, 1);
    eos_console_log_append(l, "dropped", 7);
    eos_test_fail_alloc_after(0, 0);
    size_t n = 0;
    char *e = events(l, 0, 0, &n);
    EOS_CHECK_STR(e, "retry: 1500\n\n");
    eos_free(e, n + 1);
    eos_console_log_free(l);
}

int main(void)
{
    EOS_RUN(test_ring);
    EOS_RUN(test_tap);
    EOS_RUN(test_out_of_memory);
    return eos_test_finish();
}
