/* Test component that uses WASI through libc (printf, getenv, clock, random),
 * so wit-component links in the preview1 adapter module. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void *cabi_realloc(void *p, size_t old, size_t align, size_t n)
{
    (void)old;
    return n ? realloc(p, n) : (void *)align;
}

static uint32_t ret[2];

__attribute__((export_name("run"))) uint32_t *run(char *name, size_t len)
{
    printf("hello %.*s from stdout\n", (int)len, name);
    fflush(stdout);
    fprintf(stderr, "and stderr\n");
    const char *app = getenv("APP_NAME");
    static char out[256];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int n = snprintf(out, sizeof(out), "app=%s year>=2024:%d", app ? app : "(none)",
                     ts.tv_sec > 1704067200);
    ret[0] = (uint32_t)(uintptr_t)out;
    ret[1] = (uint32_t)n;
    free(name);
    return ret;
}
