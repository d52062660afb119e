/* Native driver for a compute kernel: runs run(scale) REPEAT times (default
 * once) and prints the checksum and the fastest call's time, in the same
 * format as wasm_run. */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int64_t run(int32_t scale);

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s SCALE [REPEAT]\n", argv[0]);
        return 2;
    }
    int32_t scale = (int32_t)strtol(argv[1], NULL, 0);
    long repeat = argc == 3 ? strtol(argv[2], NULL, 0) : 1;
    int64_t sum = 0;
    double best = -1.0;
    for (long r = 0; r < (repeat > 0 ? repeat : 1); r++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int64_t got = run(scale);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
                    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        if (r > 0 && got != sum) {
            fprintf(stderr, "checksum changed between repetitions\n");
            return 1;
        }
        sum = got;
        if (best < 0 || ms < best)
            best = ms;
    }
    printf("result 0 i64 %lld\ncall_ms %.3f\n", (long long)sum, best);
    return 0;
}
