/* wasm_compile: the cost of loading a module or a component on one tier:
 * wall and CPU time of eos_wasm_module_new / eos_cm_component_new (decode,
 * validate, and with --tier compiled the whole compilation) and the peak
 * resident memory of the process afterwards. Run once per tier, in separate
 * processes, so that peaks do not mix:
 *   wasm_compile --tier interp app.wasm; wasm_compile --tier compiled app.wasm
 * --eager translates every function for the interpreter at load (as modules
 * under 1 MB of code are), --lazy each on its first call (as larger ones
 * are); the interpreter's code per byte of wasm code is printed either way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "eos/cm.h"
#include "eos/wasm.h"

static double ms_of(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
    eos_wasm_features f;
    memset(&f, 0, sizeof f);
    int argi = 1;
    for (;;) {
        if (argi + 1 < argc && strcmp(argv[argi], "--tier") == 0) {
            f.tier = strcmp(argv[argi + 1], "compiled") == 0 ? EOS_WASM_TIER_COMPILED
                                                             : EOS_WASM_TIER_INTERP;
            argi += 2;
        } else if (argi < argc && strcmp(argv[argi], "--eager") == 0) {
            f.lazy_translation_min = UINT32_MAX;
            argi++;
        } else if (argi < argc && strcmp(argv[argi], "--lazy") == 0) {
            f.lazy_translation_min = 1;
            argi++;
        } else {
            break;
        }
    }
    if (argi >= argc) {
        fprintf(stderr,
                "usage: wasm_compile [--tier interp|compiled] [--eager|--lazy] FILE.wasm\n");
        return 2;
    }
    FILE *fp = fopen(argv[argi], "rb");
    if (!fp) {
        perror(argv[argi]);
        return 1;
    }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    if (!b || fread(b, 1, (size_t)n, fp) != (size_t)n) {
        fprintf(stderr, "wasm_compile: cannot read %s\n", argv[argi]);
        return 1;
    }
    fclose(fp);
    long rss0 = peak_rss_kb();
    eos_diag d;
    eos_diag_init(&d);
    /* A component has layer 1 in the upper half of its version word. */
    bool component = n >= 8 && b[6] == 1;
    double w0 = ms_of(CLOCK_MONOTONIC), c0 = ms_of(CLOCK_PROCESS_CPUTIME_ID);
    int rc;
    eos_cm_component *c = NULL;
    eos_wasm_module *m = NULL;
    if (component)
        rc = eos_cm_component_new(b, (size_t)n, &f, &c, &d);
    else
        rc = eos_wasm_module_new(b, (size_t)n, &f, &m, &d);
    double wall = ms_of(CLOCK_MONOTONIC) - w0, cpu = ms_of(CLOCK_PROCESS_CPUTIME_ID) - c0;
    if (rc) {
        fprintf(stderr, "wasm_compile: %s: %s: %s\n", argv[argi], eos_err_name(rc), d.message);
        return 1;
    }
    eos_wasm_tier_info ti;
    if (c)
        eos_cm_component_tier_info(c, &ti);
    else
        eos_wasm_module_tier_info(m, &ti);
    printf("file %s\nbytes %ld\ntier %s\nload_wall_ms %.1f\nload_cpu_ms %.1f\n"
           "peak_rss_mb %.1f\npeak_rss_before_mb %.1f\n",
           argv[argi], n, f.tier == EOS_WASM_TIER_COMPILED ? "compiled" : "interp", wall, cpu,
           (double)peak_rss_kb() / 1024, (double)rss0 / 1024);
    size_t wasm_code = 0, internal_code = 0;
    if (c)
        eos_cm_component_code_size(c, &wasm_code, &internal_code);
    else
        eos_wasm_module_code_size(m, &wasm_code, &internal_code);
    printf("wasm_code_bytes %zu\ninterp_code_bytes %zu\ninterp_code_per_wasm_byte %.2f\n",
           wasm_code, internal_code, wasm_code ? (double)internal_code / (double)wasm_code : 0.0);
    if (ti.state == EOS_WASM_COMPILE_READY)
        printf("compile_ms %.1f\nfunctions %u\ncode_bytes %llu\n", (double)ti.compile_ns / 1e6,
               ti.func_count, (unsigned long long)ti.code_size);
    eos_cm_component_free(c);
    eos_wasm_module_free(m);
    free(b);
    return 0;
}
