/* Prints a component's world, size and SHA-256 (what `enclave-os inspect`
 * shows) and how long decoding and validation took. Usage: cm_describe FILE */
#include <stdio.h>
#include <stdlib.h>

#include "eos/cm.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s COMPONENT.wasm\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "%s: read failed\n", argv[1]);
        return 1;
    }
    fclose(f);
    eos_diag d;
    eos_diag_init(&d);
    uint64_t t0 = eos_now_ns();
    int rc = eos_cm_describe(b, (size_t)n, stdout, &d);
    uint64_t t1 = eos_now_ns();
    free(b);
    if (rc) {
        fprintf(stderr, "%s: %s (%s at offset %lld)\n", argv[1], d.message, d.step ? d.step : "?",
                (long long)d.offset);
        return 1;
    }
    fprintf(stderr, "decoded and validated in %.1f ms\n", (double)(t1 - t0) / 1e6);
    return 0;
}
