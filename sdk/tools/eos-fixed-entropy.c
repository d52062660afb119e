/* A preload library that gives one process fixed entropy and a fixed clock, so that
 * componentize-js's pre-initialisation (wizer snapshotting the JavaScript engine) sees
 * the same "random" bytes and times in every build and the snapshot is reproducible.
 * Built and loaded by sdk/tools/eos-componentize-js.mjs; never part of an app or server.
 *
 * What it replaces, for the process it is preloaded into:
 *   getrandom(), syscall(SYS_getrandom, ...)  a SplitMix64 stream from a fixed seed;
 *   clock_gettime(), gettimeofday(), time()   EOS_FIXED_EPOCH for the realtime clocks,
 *                                             a fixed instant for the others.
 * The clocks stand still: a count of calls would not do, because the compiler's worker
 * threads read the clock a varying number of times. Waits still end (glibc's own
 * timed waits and sleeps use its internal clock). If EOS_FIXED_ENTROPY_LOG names a
 * file, the counts of calls answered are appended to it at exit.
 * The snapshot's seed state is public either way (anyone holding the component can read
 * it); the engine takes fresh entropy from the host at run time.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t g_rng = 0x656e636c6176652dULL; /* "enclave-" */
static int64_t g_epoch;
static char g_log[512];
static unsigned long g_random_calls, g_random_bytes, g_clock_calls;

__attribute__((constructor)) static void eos_fixed_entropy_init(void)
{
    const char *sde = getenv("EOS_FIXED_EPOCH");
    const char *log = getenv("EOS_FIXED_ENTROPY_LOG");
    g_epoch = sde ? strtoll(sde, NULL, 10) : 0;
    if (log)
        snprintf(g_log, sizeof g_log, "%s", log);
    /* The guest inherits the environment: keep our own traces out of it. */
    unsetenv("LD_PRELOAD");
    unsetenv("EOS_FIXED_EPOCH");
    unsetenv("EOS_FIXED_ENTROPY_LOG");
}

__attribute__((destructor)) static void eos_fixed_entropy_report(void)
{
    if (!g_log[0])
        return;
    FILE *f = fopen(g_log, "a");
    if (!f)
        return;
    fprintf(f, "getrandom calls %lu bytes %lu clock calls %lu\n", g_random_calls, g_random_bytes,
            g_clock_calls);
    fclose(f);
}

static uint64_t splitmix64(void)
{
    uint64_t z = (g_rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static ssize_t fill(void *buf, size_t len)
{
    unsigned char *p = buf;
    pthread_mutex_lock(&g_lock);
    g_random_calls++;
    g_random_bytes += len;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t v = splitmix64();
        size_t n = len - i < 8 ? len - i : 8;
        memcpy(p + i, &v, n);
    }
    pthread_mutex_unlock(&g_lock);
    return (ssize_t)len;
}

/* Replaces glibc's getrandom for this process; never fails. */
ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
    (void)flags;
    return fill(buf, len);
}

/* Replaces glibc's syscall(): SYS_getrandom is answered here, everything else is
 * passed on with its six argument registers. */
long syscall(long nr, ...)
{
    va_list ap;
    long a[6];
    va_start(ap, nr);
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    if (nr == SYS_getrandom)
        return fill((void *)a[0], (size_t)a[1]);
    static long (*next)(long, ...);
    if (!next)
        next = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    return next(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static void tick(clockid_t clk, struct timespec *ts)
{
    pthread_mutex_lock(&g_lock);
    g_clock_calls++;
    pthread_mutex_unlock(&g_lock);
    int realtime = clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE;
    ts->tv_sec = (time_t)(realtime ? g_epoch : 1000);
    ts->tv_nsec = 0;
}

/* Replaces clock_gettime for every clock. */
int clock_gettime(clockid_t clk, struct timespec *ts)
{
    tick(clk, ts);
    return 0;
}

/* Replaces gettimeofday with the realtime clock above. */
int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    (void)tz;
    struct timespec ts;
    tick(CLOCK_REALTIME, &ts);
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
    return 0;
}

/* Replaces time with the realtime clock above. */
time_t time(time_t *out)
{
    struct timespec ts;
    tick(CLOCK_REALTIME, &ts);
    if (out)
        *out = ts.tv_sec;
    return ts.tv_sec;
}
