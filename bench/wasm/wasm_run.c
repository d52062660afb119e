/* wasm_run: loads a module with the eos_wasm engine, instantiates it with
 * stub imports, calls one export with arguments from the command line and
 * prints its results and the time of the call alone (decode, validation and
 * instantiation excluded; --times reports them separately). Times are CPU
 * time of the thread, which stays meaningful on a loaded machine; wall_ms
 * gives the elapsed time of the same call. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eos/wasm.h"

#define MAX_VALUES 16

static void usage(FILE *f)
{
    fprintf(f, "usage: wasm_run [--tier interp|compiled] [--bounds-checks explicit|guard]\n"
               "                [--times] [--repeat N] [--stack BYTES]\n"
               "                FILE.wasm EXPORT [ARG...]\n"
               "  Calls EXPORT with ARGs (parsed by the export's parameter types) and prints\n"
               "  'result <i> <type> <value>' per result, 'call_ms <t>' (CPU time of the fastest\n"
               "  of N calls) and 'wall_ms <t>' (its elapsed time). --times also prints\n"
               "  decode_ms (decode + validate, and compile with --tier compiled) and\n"
               "  instantiate_ms (CPU time). --tier picks the engine's tier (default interp);\n"
               "  --bounds-checks how compiled code checks memory accesses (default explicit).\n"
               "  Function imports are stubbed to return zeros; memory, table and global\n"
               "  imports get fresh objects of the declared type.\n");
}

static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int read_file(const char *path, uint8_t **out, size_t *out_size)
{
    int rc = EOS_EIO;
    uint8_t *buf = NULL;
    size_t size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "wasm_run: cannot open %s: %s\n", path, strerror(errno));
        return EOS_EIO;
    }
    if (fseek(f, 0, SEEK_END) != 0)
        goto out;
    long len = ftell(f);
    if (len < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto out;
    size = (size_t)len;
    buf = malloc(size ? size : 1);
    if (!buf) {
        rc = EOS_ENOMEM;
        goto out;
    }
    if (fread(buf, 1, size, f) != size)
        goto out;
    *out = buf;
    *out_size = size;
    buf = NULL;
    rc = 0;
out:
    if (rc == EOS_EIO)
        fprintf(stderr, "wasm_run: cannot read %s\n", path);
    free(buf);
    fclose(f);
    return rc;
}

/* Stub for every imported function: all results zero, like wasm-interp's
 * --dummy-import-func. ud is the import's type, borrowed from the module. */
static int stub_import(eos_wasm_caller *caller, void *ud, uint64_t *slots)
{
    (void)caller;
    const eos_wasm_functype *type = ud;
    for (uint32_t i = 0; i < type->result_count; i++)
        slots[i] = 0;
    return 0;
}

static eos_wasm_val zero_of(uint8_t type)
{
    eos_wasm_val v;
    memset(&v, 0, sizeof v);
    v.type = type;
    return v;
}

/* Makes one extern per import of m, in import order, in store s. */
static int make_imports(eos_wasm_store *s, const eos_wasm_module *m, eos_wasm_extern *out,
                        size_t count)
{
    for (size_t i = 0; i < count; i++) {
        eos_wasm_import_desc d;
        eos_wasm_module_import(m, i, &d);
        int rc = 0;
        out[i].kind = d.type.kind;
        switch (d.type.kind) {
        case EOS_WASM_EXTERN_FUNC:
            rc = eos_wasm_func_new_host(s, d.type.of.func, stub_import, (void *)d.type.of.func,
                                        &out[i].of.func);
            break;
        case EOS_WASM_EXTERN_MEMORY:
            rc = eos_wasm_memory_new(s, &d.type.of.memory, &out[i].of.memory);
            break;
        case EOS_WASM_EXTERN_TABLE:
            rc = eos_wasm_table_new(s, &d.type.of.table, zero_of(d.type.of.table.elem_type),
                                    &out[i].of.table);
            break;
        case EOS_WASM_EXTERN_GLOBAL:
            rc = eos_wasm_global_new(s, &d.type.of.global, zero_of(d.type.of.global.valtype),
                                     &out[i].of.global);
            break;
        case EOS_WASM_EXTERN_TAG:
            rc = eos_wasm_tag_new(s, d.type.of.tag, &out[i].of.tag);
            break;
        }
        if (rc != 0) {
            fprintf(stderr, "wasm_run: cannot stub import %.*s.%.*s: %s\n", (int)d.module_len,
                    d.module, (int)d.name_len, d.name, eos_strerror(rc));
            return rc;
        }
    }
    return 0;
}

static int parse_arg(const char *text, uint8_t type, eos_wasm_val *out)
{
    char *end = NULL;
    *out = zero_of(type);
    errno = 0;
    switch (type) {
    case EOS_WASM_I32:
        out->of.i32 = (int32_t)strtoll(text, &end, 0);
        break;
    case EOS_WASM_I64:
        /* Accept both signed and unsigned spellings of 64-bit values. */
        out->of.i64 = text[0] == '-' ? (int64_t)strtoll(text, &end, 0)
                                     : (int64_t)strtoull(text, &end, 0);
        break;
    case EOS_WASM_F32: {
        float f = strtof(text, &end);
        memcpy(&out->of.f32_bits, &f, 4);
        break;
    }
    case EOS_WASM_F64: {
        double d = strtod(text, &end);
        memcpy(&out->of.f64_bits, &d, 8);
        break;
    }
    default:
        fprintf(stderr, "wasm_run: parameter type 0x%02x cannot be given on the command line\n",
                type);
        return EOS_EUNSUPPORTED;
    }
    if (errno != 0 || end == text || *end != '\0') {
        fprintf(stderr, "wasm_run: bad argument '%s'\n", text);
        return EOS_EINVAL;
    }
    return 0;
}

static void print_result(size_t i, const eos_wasm_val *v)
{
    switch (v->type) {
    case EOS_WASM_I32:
        printf("result %zu i32 %" PRId32 "\n", i, v->of.i32);
        break;
    case EOS_WASM_I64:
        printf("result %zu i64 %" PRId64 "\n", i, v->of.i64);
        break;
    case EOS_WASM_F32: {
        float f;
        memcpy(&f, &v->of.f32_bits, 4);
        printf("result %zu f32 %.9g\n", i, (double)f);
        break;
    }
    case EOS_WASM_F64: {
        double d;
        memcpy(&d, &v->of.f64_bits, 8);
        printf("result %zu f64 %.17g\n", i, d);
        break;
    }
    default:
        printf("result %zu type-0x%02x\n", i, v->type);
        break;
    }
}

int main(int argc, char **argv)
{
    int rc = 1;
    bool times = false;
    long repeat = 1;
    size_t stack = 0;
    int argi = 1;
    uint8_t *bytes = NULL;
    size_t size = 0;
    eos_wasm_module *module = NULL;
    eos_wasm_store *store = NULL;
    eos_wasm_extern *imports = NULL;
    eos_diag diag;
    eos_diag_init(&diag);
    eos_wasm_features features;
    memset(&features, 0, sizeof features);

    for (; argi < argc && argv[argi][0] == '-' && argv[argi][1] == '-'; argi++) {
        if (strcmp(argv[argi], "--times") == 0) {
            times = true;
        } else if (strcmp(argv[argi], "--repeat") == 0 && argi + 1 < argc) {
            repeat = strtol(argv[++argi], NULL, 0);
        } else if (strcmp(argv[argi], "--tier") == 0 && argi + 1 < argc) {
            const char *t = argv[++argi];
            if (strcmp(t, "compiled") == 0) {
                features.tier = EOS_WASM_TIER_COMPILED;
            } else if (strcmp(t, "interp") != 0) {
                usage(stderr);
                return 2;
            }
        } else if (strcmp(argv[argi], "--bounds-checks") == 0 && argi + 1 < argc) {
            const char *b = argv[++argi];
            if (strcmp(b, "guard") == 0) {
                features.bounds = EOS_WASM_BOUNDS_GUARD;
            } else if (strcmp(b, "explicit") != 0) {
                usage(stderr);
                return 2;
            }
        } else if (strcmp(argv[argi], "--stack") == 0 && argi + 1 < argc) {
            stack = (size_t)strtoull(argv[++argi], NULL, 0);
        } else if (strcmp(argv[argi], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (argc - argi < 2 || repeat < 1) {
        usage(stderr);
        return 2;
    }
    const char *path = argv[argi], *name = argv[argi + 1];
    char **args = argv + argi + 2;
    size_t arg_count = (size_t)(argc - argi - 2);

    if (read_file(path, &bytes, &size) != 0)
        goto out;

    double t0 = cpu_ms();
    int err = eos_wasm_module_new(bytes, size, &features, &module, &diag);
    double decode_ms = cpu_ms() - t0;
    if (err != 0) {
        fprintf(stderr, "wasm_run: %s: %s (%s): %s\n", path, eos_err_name(err),
                diag.step ? diag.step : "decode", diag.message);
        rc = err == EOS_EUNAVAILABLE ? 3 : 1;
        goto out;
    }

    eos_wasm_limits limits;
    memset(&limits, 0, sizeof limits);
    limits.native_stack_size = stack;
    if ((err = eos_wasm_store_new(&limits, &store)) != 0) {
        fprintf(stderr, "wasm_run: cannot create a store: %s\n", eos_strerror(err));
        goto out;
    }
    t0 = cpu_ms();
    size_t import_count = eos_wasm_module_import_count(module);
    if (import_count) {
        imports = calloc(import_count, sizeof *imports);
        if (!imports || make_imports(store, module, imports, import_count) != 0)
            goto out;
    }
    eos_wasm_instance *inst = NULL;
    err = eos_wasm_instantiate(store, module, imports, import_count, &inst, &diag);
    double inst_ms = cpu_ms() - t0;
    if (err != 0) {
        fprintf(stderr, "wasm_run: cannot instantiate %s: %s: %s\n", path, eos_err_name(err),
                diag.message);
        goto out;
    }

    eos_wasm_func *fn = eos_wasm_instance_func(inst, name);
    if (!fn) {
        fprintf(stderr, "wasm_run: %s has no exported function '%s'\n", path, name);
        goto out;
    }
    const eos_wasm_functype *type = eos_wasm_func_type(fn);
    if (type->param_count != arg_count || type->param_count > MAX_VALUES ||
        type->result_count > MAX_VALUES) {
        fprintf(stderr, "wasm_run: '%s' takes %" PRIu32 " argument(s), %zu given\n", name,
                type->param_count, arg_count);
        goto out;
    }
    eos_wasm_val params[MAX_VALUES], results[MAX_VALUES];
    for (size_t i = 0; i < arg_count; i++)
        if (parse_arg(args[i], type->params[i], &params[i]) != 0)
            goto out;

    double best = -1.0, best_wall = 0.0;
    for (long r = 0; r < repeat; r++) {
        eos_diag_init(&diag);
        uint64_t w0 = eos_now_ns();
        t0 = cpu_ms();
        err = eos_wasm_func_call(store, fn, params, arg_count, results, type->result_count,
                                 &diag);
        double call_ms = cpu_ms() - t0;
        double wall_ms = (double)(eos_now_ns() - w0) / 1e6;
        if (err != 0) {
            fprintf(stderr, "wasm_run: %s trapped: %s: %s\n", name, eos_err_name(err),
                    diag.message);
            goto out;
        }
        if (best < 0 || call_ms < best) {
            best = call_ms;
            best_wall = wall_ms;
        }
    }
    for (uint32_t i = 0; i < type->result_count; i++)
        print_result(i, &results[i]);
    printf("call_ms %.3f\nwall_ms %.3f\n", best, best_wall);
    if (times) {
        eos_wasm_tier_info ti;
        eos_wasm_module_tier_info(module, &ti);
        printf("decode_ms %.3f\ninstantiate_ms %.3f\n", decode_ms, inst_ms);
        if (ti.state == EOS_WASM_COMPILE_READY)
            printf("compile_ms %.3f\n", (double)ti.compile_ns / 1e6);
    }
    rc = 0;
out:
    eos_wasm_store_free(store);
    eos_wasm_module_free(module);
    free(imports);
    free(bytes);
    return rc;
}
