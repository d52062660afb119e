/* Component-model throughput: instantiations per second and export calls per
 * second for a small C component, with a call taking and returning a string
 * measured against a scalar call (u32 -> u32) in the same run.
 * Usage: bench_cm [COMPONENT.wasm] (default: the test component). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eos/cm.h"

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return b;
}

static int noop(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    (void)call, (void)ud, (void)args;
    results[0].of.u = 0;
    return 0;
}

static void noop_dtor(void *ud, void *data, uint32_t rep)
{
    (void)ud, (void)data, (void)rep;
}

static const eos_cm_host_func funcs[] = {
    {"[constructor]blob", "func(data: list<u8>) -> blob", noop},
    {"[method]blob.size", "func(self: borrow<blob>) -> u32", noop},
    {"log", "func(msg: string)", noop},
    {"callback", "func() -> u32", noop},
    {"take", "func(b: blob) -> u32", noop},
    {"peek", "func(b: borrow<blob>) -> u32", noop},
};

static double rate(uint64_t n, uint64_t ns)
{
    return (double)n * 1e9 / (double)(ns ? ns : 1);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : EOS_CM_BENCH_APP;
    size_t size;
    uint8_t *b = read_file(path, &size);
    if (!b) {
        printf("bench_cm: SKIP: %s not found (build the cm tests with node available)\n", path);
        return 0;
    }
    eos_cm_component *c = NULL;
    eos_cm_host *h = NULL;
    eos_diag d;
    eos_diag_init(&d);
    if (eos_cm_component_new(b, size, NULL, &c, &d) || eos_cm_host_new(&h) ||
        eos_cm_host_define(h, "local:types/host", "resource blob;", funcs, 6, noop_dtor, NULL,
                           &d)) {
        fprintf(stderr, "bench_cm: %s\n", d.message);
        return 1;
    }
    eos_wasm_store *s = NULL;
    eos_cm_instance *inst = NULL;
    eos_wasm_store_new(NULL, &s);
    int rc = eos_cm_instance_new(s, c, h, NULL, &inst, &d);
    if (rc == EOS_EUNAVAILABLE) {
        printf("bench_cm: SKIP: engine not available\n");
        return 0;
    }
    if (rc) {
        fprintf(stderr, "bench_cm: %s\n", d.message);
        return 1;
    }
    eos_cm_instance_free(inst);
    eos_wasm_store_free(s);

    /* Instantiation: a fresh store and instance each time, as per request. */
    uint64_t n = 0, t0 = eos_now_ns(), t1;
    do {
        eos_wasm_store_new(NULL, &s);
        if (eos_cm_instance_new(s, c, h, NULL, &inst, &d))
            return 1;
        eos_cm_instance_free(inst);
        eos_wasm_store_free(s);
        n++;
        t1 = eos_now_ns();
    } while (t1 - t0 < 1000000000ull);
    double inst_rate = rate(n, t1 - t0);

    eos_wasm_store_new(NULL, &s);
    eos_cm_instance_new(s, c, h, NULL, &inst, &d);
    eos_cm_arena *a = eos_cm_arena_new();
    eos_cm_func *scalar = eos_cm_instance_func(inst, "echo-u32");
    eos_cm_func *greet = eos_cm_instance_func(inst, "greet");
    eos_cm_val arg = {.of.u = 7}, res;
    n = 0, t0 = eos_now_ns();
    do {
        for (int k = 0; k < 1000; k++) {
            if (eos_cm_call_func(inst, scalar, &arg, 1, &res, 1, a, &d))
                return 1;
            eos_cm_arena_reset(a);
        }
        n += 1000;
        t1 = eos_now_ns();
    } while (t1 - t0 < 1000000000ull);
    double scalar_rate = rate(n, t1 - t0);

    arg.of.str.ptr = "enclave-os benchmark caller";
    arg.of.str.len = strlen(arg.of.str.ptr);
    n = 0, t0 = eos_now_ns();
    do {
        for (int k = 0; k < 1000; k++) {
            if (eos_cm_call_func(inst, greet, &arg, 1, &res, 1, a, &d)) {
                fprintf(stderr, "bench_cm: %s\n", d.message);
                return 1;
            }
            eos_cm_arena_reset(a);
        }
        n += 1000;
        t1 = eos_now_ns();
    } while (t1 - t0 < 1000000000ull);
    double string_rate = rate(n, t1 - t0);

    printf("component: %s (%zu bytes)\n", path, size);
    printf("instantiations/s:            %10.0f\n", inst_rate);
    printf("calls/s u32 -> u32 (base):   %10.0f\n", scalar_rate);
    printf("calls/s string -> string:    %10.0f  (%.2fx the scalar call's cost)\n", string_rate,
           scalar_rate / string_rate);
    eos_cm_arena_free(a);
    eos_cm_instance_free(inst);
    eos_wasm_store_free(s);
    eos_cm_host_free(h);
    eos_cm_component_free(c);
    free(b);
    return 0;
}
