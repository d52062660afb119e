/* kill -9 at random moments: a child writes numbered records and
 * acknowledges each after commit; the parent kills it 50 times, then checks
 * that every acknowledged record is present and intact, that pairs written
 * in one transaction are all-or-nothing, and that nothing is corrupt. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eos/kv.h"
#include "harness.h"
#include "kv_crash_common.h"
#include "kv_testutil.h"

#define ROUNDS 50

static char *dir;
static eos_tee *tee;

/* Runs the writer from first and kills it delay_ms after its first
 * acknowledgement (or after it started, when at_startup); returns the
 * highest acknowledged record, or first - 1 when none was. */
static long run_child(long first, int delay_ms, int at_startup)
{
    int fds[2];
    char arg[32], buf[4096];
    long max = first - 1, cur = 0;
    if (pipe(fds) != 0)
        return max;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        snprintf(arg, sizeof arg, "%ld", first);
        execl(KV_CRASH_WRITER, KV_CRASH_WRITER, dir, arg, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    /* A loaded machine may take long to start the child: wait for it (up to
     * 20 s) rather than count a slow start as a crash test. */
    uint64_t deadline =
        eos_now_ns() + (at_startup ? (uint64_t)delay_ms * 1000000u : (uint64_t)20000 * 1000000u);
    int killed = 0;
    for (;;) {
        uint64_t now = eos_now_ns();
        if (!killed && now >= deadline) {
            kill(pid, SIGKILL);
            killed = 1;
        }
        struct pollfd p = {fds[0], POLLIN, 0};
        int timeout = killed ? 1000 : (int)((deadline - now) / 1000000u) + 1;
        if (poll(&p, 1, timeout) <= 0)
            continue;
        ssize_t n = read(fds[0], buf, sizeof buf - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        /* Only complete lines are acknowledgements. */
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] >= '0' && buf[i] <= '9') {
                cur = cur * 10 + (buf[i] - '0');
            } else if (buf[i] == '\n') {
                if (!at_startup && max < first && !killed)
                    deadline = eos_now_ns() + (uint64_t)delay_ms * 1000000u;
                if (cur > max)
                    max = cur;
                cur = 0;
            }
        }
    }
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    EOS_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    return max;
}

static int check_record(eos_kv_ns *ns, const char *key, long n)
{
    uint8_t want[KV_CRASH_MAX_VALUE];
    uint8_t *v = NULL;
    size_t size = 0, want_size = kv_crash_value(n, want);
    eos_diag d;
    eos_diag_init(&d);
    int rc = eos_kv_get(ns, key, strlen(key), &v, &size, &d);
    if (rc == 0) {
        if (size != want_size || memcmp(v, want, size) != 0)
            eos_test_fail(__FILE__, __LINE__, "%s holds a wrong value", key);
        eos_free(v, size);
    } else if (rc != EOS_ENOTFOUND) {
        eos_test_fail(__FILE__, __LINE__, "%s: %s: %s", key, eos_err_name(rc), d.message);
    }
    return rc;
}

/* Checks the store after a crash; acked is the highest acknowledged number. */
static void verify(long acked)
{
    eos_kv *kv = NULL;
    eos_kv_ns *ns = NULL;
    eos_diag d;
    char key[32];
    eos_diag_init(&d);
    eos_kv_config cfg = {.data_dir = dir, .tee = tee};
    int rc = eos_kv_open(&cfg, &kv, &d);
    if (rc != 0 && acked < 0) {
        /* Killed before the first start finished: nothing was promised. */
        return;
    }
    EOS_CHECK_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "    %s\n", d.message);
        return;
    }
    EOS_CHECK_INT(eos_kv_ns_open(kv, "app:crash", &ns, NULL), 0);
    for (long n = 0; n <= acked + 1; n++) {
        snprintf(key, sizeof key, "rec:%ld", n);
        int rc1 = check_record(ns, key, n);
        if (n <= acked && rc1 != 0)
            eos_test_fail(__FILE__, __LINE__, "acknowledged record %ld is missing", n);
        if (n % 4 == 0) {
            snprintf(key, sizeof key, "pair/%ld", n);
            int rc2 = check_record(ns, key, n);
            if (rc1 != rc2)
                eos_test_fail(__FILE__, __LINE__, "transaction %ld applied partly", n);
        }
    }
    /* Every listed name authenticates, and the directory index agrees with
     * the records: as many "pair/" names through it as there are pairs. */
    long pairs = 0, indexed = 0;
    for (long n = 0; n <= acked + 1; n += 4) {
        int ex = 0;
        snprintf(key, sizeof key, "pair/%ld", n);
        eos_kv_exists(ns, key, strlen(key), &ex, NULL);
        pairs += ex;
    }
    for (int pass = 0; pass < 2; pass++) {
        char cursor[EOS_KV_CURSOR_SIZE] = "";
        do {
            eos_kv_list_page page;
            rc = eos_kv_list(ns, pass ? "pair/" : NULL, pass ? 5 : 0, cursor, 0, &page, &d);
            EOS_CHECK_INT(rc, 0);
            if (pass)
                indexed += (long)page.count;
            memcpy(cursor, page.cursor, sizeof cursor);
            eos_kv_list_free(&page);
        } while (rc == 0 && cursor[0]);
    }
    EOS_CHECK_INT(indexed, pairs);
    eos_kv_ns_close(ns);
    eos_kv_close(kv);
}

static void test_kill9(void)
{
    long acked = -1;
    int with_acks = 0;
    srand((unsigned)time(NULL));
    uint64_t start = eos_now_ns();
    for (int round = 0; round < ROUNDS; round++) {
        /* Mostly mid-write kills, sometimes during start-up. */
        int at_startup = round % 10 == 0;
        long max = run_child(acked + 1, at_startup ? rand() % 15 : rand() % 60, at_startup);
        if (max > acked) {
            acked = max;
            with_acks++;
        }
        verify(acked);
    }
    fprintf(stderr, "    %d kills, %ld records acknowledged, %.1f s\n", ROUNDS, acked + 1,
            (double)(eos_now_ns() - start) / 1e9);
    EOS_CHECK(with_acks >= ROUNDS * 8 / 10);
}

int main(void)
{
    eos_log_set_level(EOS_LOG_WARN);
    tee = tee_double_new(KV_CRASH_TEE_KEY);
    dir = kvt_mkdtemp();
    EOS_RUN(test_kill9);
    kvt_rmdir(dir);
    eos_tee_free(tee);
    return eos_test_finish();
}
