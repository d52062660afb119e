/* Native driver for a compute kernel: runs run(scale) REPEAT times (default
 * once) and prints the checksum and the fastest call's time, in the same
 * format as wasm_run: call_ms is CPU time of the thread (stable on a shared
 * machine), wall_ms the elapsed time of the same call. */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int64_t run(int32_t scale);

static double now_ms(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s SCALE [REPEAT]\n", argv[0]);
        return 2;
    }
    int32_t scale = (int32_t)strtol(argv[1], NULL, 0);
    long repeat = argc == 3 ? strtol(argv[2], NULL, 0) : 1;
    int64_t sum = 0;
    double best = -1.0, best_wall = 0.0;
    for (long r = 0; r < (repeat > 0 ? repeat : 1); r++) {
        double c0 = now_ms(CLOCK_THREAD_CPUTIME_ID), w0 = now_ms(CLOCK_MONOTONIC);
        int64_t got = run(scale);
        double cpu = now_ms(CLOCK_THREAD_CPUTIME_ID) - c0, wall = now_ms(CLOCK_MONOTONIC) - w0;
        if (r > 0 && got != sum) {
            fprintf(stderr, "checksum changed between repetitions\n");
            return 1;
        }
        sum = got;
        if (best < 0 || cpu < best) {
            best = cpu;
            best_wall = wall;
        }
    }
    printf("result 0 i64 %lld\ncall_ms %.3f\nwall_ms %.3f\n", (long long)sum, best, best_wall);
    return 0;
}
