/* Instantiation throughput of the eos_wasm engine: how many times per second
 * a fresh store can be created, a decoded module instantiated in it, and the
 * store freed. Modules: 1 and 64 pages of memory fully initialised by data
 * segments (built here byte by byte), plus any .wasm files given (their
 * imports are stubbed: functions return zeros, other objects are fresh).
 * "code B/B" is bytes of interpreter code per byte of the code section.
 * --compiled compiles the modules first (the compiled tier's instances);
 * --bounds-checks guard (implies --compiled) gives memories guard
 * reservations, to measure their cost. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eos/wasm.h"

#define PAGE 65536u

/* A growable byte buffer for emitting a module. */
struct bytes {
    uint8_t *p;
    size_t len, cap;
    bool failed;
};

static void put(struct bytes *b, const void *src, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void put_byte(struct bytes *b, uint8_t v)
{
    put(b, &v, 1);
}

static void put_uleb(struct bytes *b, uint64_t v)
{
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        put_byte(b, (uint8_t)(byte | (v ? 0x80 : 0)));
    } while (v);
}

static void put_sleb(struct bytes *b, int64_t v)
{
    for (;;) {
        uint8_t byte = v & 0x7f;
        v >>= 7; /* arithmetic shift on every supported compiler */
        bool done = (v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40));
        put_byte(b, (uint8_t)(byte | (done ? 0 : 0x80)));
        if (done)
            return;
    }
}

static void put_section(struct bytes *b, uint8_t id, const struct bytes *body)
{
    put_byte(b, id);
    put_uleb(b, body->len);
    put(b, body->p, body->len);
    if (body->failed)
        b->failed = true;
}

/* A module with one memory of `pages` pages (max = min), exported as
 * "memory", whose every byte is set by one 64 KiB active data segment per
 * page, and an exported function "peek(addr) -> i32" reading a byte. */
static int build_data_module(uint32_t pages, struct bytes *out)
{
    struct bytes sec = {0};
    static const uint8_t header[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    put(out, header, sizeof header);

    /* type 0: (i32) -> i32 */
    static const uint8_t types[] = {1, 0x60, 1, 0x7f, 1, 0x7f};
    sec.len = 0;
    put(&sec, types, sizeof types);
    put_section(out, 1, &sec);
    static const uint8_t funcs[] = {1, 0};
    sec.len = 0;
    put(&sec, funcs, sizeof funcs);
    put_section(out, 3, &sec);
    sec.len = 0;
    put_byte(&sec, 1);
    put_byte(&sec, 0x01); /* limits with a maximum */
    put_uleb(&sec, pages);
    put_uleb(&sec, pages);
    put_section(out, 5, &sec);
    sec.len = 0;
    put_byte(&sec, 2);
    put_byte(&sec, 6);
    put(&sec, "memory", 6);
    put_byte(&sec, 2);
    put_byte(&sec, 0);
    put_byte(&sec, 4);
    put(&sec, "peek", 4);
    put_byte(&sec, 0);
    put_byte(&sec, 0);
    put_section(out, 7, &sec);
    /* peek: local.get 0; i32.load8_u align=0 offset=0; end */
    static const uint8_t code[] = {1, 7, 0, 0x20, 0, 0x2d, 0, 0, 0x0b};
    sec.len = 0;
    put(&sec, code, sizeof code);
    put_section(out, 10, &sec);

    sec.len = 0;
    put_uleb(&sec, pages);
    uint8_t *chunk = malloc(PAGE);
    if (!chunk) {
        free(sec.p);
        return EOS_ENOMEM;
    }
    for (uint32_t p = 0; p < pages; p++) {
        for (uint32_t i = 0; i < PAGE; i++)
            chunk[i] = (uint8_t)(i * 7 + p);
        put_byte(&sec, 0); /* active, memory 0 */
        put_byte(&sec, 0x41); /* i32.const offset */
        put_sleb(&sec, (int64_t)p * PAGE);
        put_byte(&sec, 0x0b);
        put_uleb(&sec, PAGE);
        put(&sec, chunk, PAGE);
    }
    free(chunk);
    put_section(out, 11, &sec);
    free(sec.p);
    return out->failed ? EOS_ENOMEM : 0;
}

static uint8_t *read_file(const char *path, size_t *out_size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long len = ftell(f);
        if (len >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)len + 1)) &&
            fread(buf, 1, (size_t)len, f) == (size_t)len) {
            *out_size = (size_t)len;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

/* CPU time of this thread, in ms: steadier than wall time on a busy machine. */
static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Stub for function imports of benchmark modules: zero results. */
static int stub_import(eos_wasm_caller *caller, void *ud, uint64_t *slots)
{
    (void)caller;
    const eos_wasm_functype *type = ud;
    for (uint32_t i = 0; i < type->result_count; i++)
        slots[i] = 0;
    return 0;
}

/* A stand-in for one import: functions return zeros; tables, memories and
 * globals are fresh objects of the declared type. */
static int stub(eos_wasm_store *s, const eos_wasm_import_desc *d, eos_wasm_extern *out)
{
    out->kind = d->type.kind;
    switch (d->type.kind) {
    case EOS_WASM_EXTERN_FUNC:
        return eos_wasm_func_new_host(s, d->type.of.func, stub_import, (void *)d->type.of.func,
                                      &out->of.func);
    case EOS_WASM_EXTERN_TABLE: {
        eos_wasm_val null = {.type = d->type.of.table.elem_type};
        return eos_wasm_table_new(s, &d->type.of.table, null, &out->of.table);
    }
    case EOS_WASM_EXTERN_MEMORY:
        return eos_wasm_memory_new(s, &d->type.of.memory, &out->of.memory);
    case EOS_WASM_EXTERN_TAG:
        return eos_wasm_tag_new(s, d->type.of.tag, &out->of.tag);
    default: {
        eos_wasm_val zero = {.type = d->type.of.global.valtype};
        return eos_wasm_global_new(s, &d->type.of.global, zero, &out->of.global);
    }
    }
}

/* One store + instantiate + free, with every import stubbed. */
static int instantiate_once(eos_wasm_module *m, eos_diag *diag)
{
    eos_wasm_store *s = NULL;
    size_t n = eos_wasm_module_import_count(m);
    eos_wasm_extern *imports = calloc(n ? n : 1, sizeof(*imports));
    int rc = imports ? eos_wasm_store_new(NULL, &s) : EOS_ENOMEM;
    if (rc != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        eos_wasm_import_desc d;
        eos_wasm_module_import(m, i, &d);
        if ((rc = stub(s, &d, &imports[i])) != 0) {
            rc = eos_diag_set(diag, rc, "imports", -1, "cannot stub import %zu", i);
            goto out;
        }
    }
    eos_wasm_instance *inst = NULL;
    rc = eos_wasm_instantiate(s, m, imports, n, &inst, diag);
out:
    eos_wasm_store_free(s);
    free(imports);
    return rc;
}

/* Instantiates m repeatedly for at least min_ms of CPU time (and min_iters
 * times) and prints instances per CPU second. Returns 0 or the first failure. */
static eos_wasm_features features;

static int measure(const char *label, const uint8_t *bytes, size_t size, double min_ms,
                   long min_iters)
{
    eos_wasm_module *m = NULL;
    eos_diag diag;
    eos_diag_init(&diag);
    double t0 = cpu_ms();
    int rc = eos_wasm_module_new(bytes, size, &features, &m, &diag);
    double decode_ms = cpu_ms() - t0;
    if (rc != 0) {
        fprintf(stderr, "bench_instantiate: %s: %s: %s\n", label, eos_err_name(rc),
                diag.message);
        return rc;
    }
    long iters = 0;
    t0 = cpu_ms();
    double elapsed_ms = 0;
    /* The CPU clock is a system call: read it once per batch, and let the
     * batch grow while it is short. */
    long batch = 1;
    while (iters < min_iters || elapsed_ms < min_ms) {
        for (long b = 0; b < batch; b++) {
            if ((rc = instantiate_once(m, &diag)) != 0) {
                fprintf(stderr, "bench_instantiate: %s: %s: %s\n", label, eos_err_name(rc),
                        diag.message);
                goto out;
            }
        }
        iters += batch;
        elapsed_ms = cpu_ms() - t0;
        if (elapsed_ms < min_ms / 16)
            batch *= 2;
    }
    size_t wasm_code = 0, internal_code = 0;
    eos_wasm_module_code_size(m, &wasm_code, &internal_code);
    printf("%-28s %9zu B  decode %8.3f ms  %10.0f instances/s  %9.2f us each  "
           "code %.2f B/B\n",
           label, size, decode_ms, (double)iters / (elapsed_ms / 1e3),
           elapsed_ms * 1e3 / (double)iters,
           wasm_code ? (double)internal_code / (double)wasm_code : 0.0);
out:
    eos_wasm_module_free(m);
    return rc;
}

/* Writes the generated data modules to DIR (for checking them with other
 * tools, e.g. wasm-validate). */
static int emit(const char *dir)
{
    for (uint32_t pages = 1; pages <= 64; pages *= 64) {
        struct bytes mod = {0};
        char path[4096];
        snprintf(path, sizeof path, "%s/data-%upage%s.wasm", dir, pages, pages == 1 ? "" : "s");
        int rc = build_data_module(pages, &mod);
        FILE *f = rc == 0 ? fopen(path, "wb") : NULL;
        bool ok = f && fwrite(mod.p, 1, mod.len, f) == mod.len;
        if (f && fclose(f) != 0)
            ok = false;
        free(mod.p);
        if (!ok) {
            fprintf(stderr, "bench_instantiate: cannot write %s\n", path);
            return 1;
        }
        printf("%s\n", path);
    }
    return 0;
}

int main(int argc, char **argv)
{
    double min_ms = 500;
    long min_iters = 3;
    int argi = 1, rc = 0;
    if (argc == 3 && strcmp(argv[1], "--emit") == 0)
        return emit(argv[2]);
    for (; argi < argc && argv[argi][0] == '-'; argi++) {
        if (strcmp(argv[argi], "--quick") == 0) {
            min_ms = 20;
            min_iters = 2;
        } else if (strcmp(argv[argi], "--compiled") == 0) {
            features.tier = EOS_WASM_TIER_COMPILED;
        } else if (strcmp(argv[argi], "--bounds-checks") == 0 && argi + 1 < argc) {
            features.tier = EOS_WASM_TIER_COMPILED;
            features.bounds = strcmp(argv[++argi], "guard") == 0 ? EOS_WASM_BOUNDS_GUARD
                                                                 : EOS_WASM_BOUNDS_EXPLICIT;
        } else {
            break;
        }
    }
    if (argi < argc && argv[argi][0] == '-') {
        fprintf(stderr, "usage: bench_instantiate [--quick] [--compiled] "
                        "[--bounds-checks explicit|guard] [MODULE.wasm...]\n"
                        "       bench_instantiate --emit DIR\n");
        return 2;
    }
    static const uint32_t page_counts[] = {1, 64};
    for (size_t i = 0; i < sizeof page_counts / sizeof page_counts[0] && rc == 0; i++) {
        struct bytes mod = {0};
        char label[64];
        snprintf(label, sizeof label, "data-%upage%s", page_counts[i],
                 page_counts[i] == 1 ? "" : "s");
        rc = build_data_module(page_counts[i], &mod);
        if (rc == 0)
            rc = measure(label, mod.p, mod.len, min_ms, min_iters);
        free(mod.p);
    }
    for (; argi < argc && rc == 0; argi++) {
        size_t size = 0;
        uint8_t *bytes = read_file(argv[argi], &size);
        if (!bytes) {
            fprintf(stderr, "bench_instantiate: cannot read %s: %s\n", argv[argi],
                    strerror(errno));
            return 1;
        }
        const char *base = strrchr(argv[argi], '/');
        rc = measure(base ? base + 1 : argv[argi], bytes, size, min_ms, min_iters);
        free(bytes);
    }
    return rc == 0 ? 0 : (rc == EOS_EUNAVAILABLE ? 3 : 1);
}
