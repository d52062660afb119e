/* Runs the official WebAssembly spec tests: reads the JSON script written by
 * wast2json and executes every command (modules, register, actions and all
 * assertion kinds) against the engine, with the "spectest" host module.
 * Usage: spec_runner [--tier interp|compiled] [--bounds explicit|guard] [--lazy] [--mvp | --wasm1 | --all]
 *                    [--all] [--skip] [--no-decline] file.json...
 *   --tier  run the modules on that tier (default interp)
 *   --bounds how compiled code checks memory accesses (default explicit);
 *           guard where the build cannot exits 77 (skipped)
 *   --lazy  translate every function on its first call (as for large modules)
 *   --wasm1 for the following files, also one table at most (WebAssembly 1.0)
 *   --mvp   for the following files, disable the proposals (multi-memory)
 *           the core suite predates; --all enables them again
 *   --skip  only count the commands (for files of unsupported features)
 *   --no-decline  a module the tier refuses (EOS_EUNSUPPORTED) fails rather
 *           than being skipped (the compiled tier on the SIMD files)
 * For the latest testsuite (JSON written by tools/wastconv.mjs):
 *   --latest       WebAssembly 3.0 rules where they differ from 2.0 (constant
 *                  expressions reading any earlier immutable global)
 *   --run          the following files run again (ends --skip-because)
 *   --expect FILE  lines "<file> <failures> <reason>": the run succeeds when no
 *                  file fails more commands than listed there
 *   --group NAME   the following files belong to proposal NAME (ends --skip)
 *   --skip-because REASON  like --skip, with the reason printed per group */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "eos/wasm.h"

typedef struct named {
    char *name;
    eos_wasm_instance *inst;
} named;

typedef struct expect {
    char *file; /* path relative to the testsuite, without .wast */
    long failures;
    char *reason;
} expect;

typedef struct group {
    char *name;
    long files, passed, failed, expected, skipped;
    char *reasons[16];
    long reason_counts[16];
    size_t nreasons;
} group;

typedef struct defn {
    char *name;
    char *filename;
} defn;

typedef struct runner {
    const char *dir;
    const char *file;
    eos_wasm_features features;
    bool no_decline; /* a module the tier refuses fails instead of being skipped */
    eos_wasm_store *store;
    eos_wasm_instance *current;
    named *names; /* "$id" -> instance */
    size_t nnames;
    named *regs; /* registered as -> instance */
    size_t nregs;
    eos_wasm_extern spectest[16];
    const char *spectest_names[16];
    size_t nspectest;
    long passed, failed, skipped;
    int line;
    const char *skip_reason;
    char suite_file[512]; /* the file's path in the testsuite, from the JSON */
    struct expect *expects;
    size_t nexpects;
    struct group *groups;
    size_t ngroups;
    struct defn *defs; /* module definitions: "$id" -> binary file name */
    size_t ndefs;
    long over; /* files failing more commands than expected */
    bool current_unsupported; /* the current module uses an unsupported feature (SIMD) */
    bool reason_told;         /* the skip reason of this file was printed */
} runner;

static void skip_cmd(runner *r, const char *why);

static yajl_val get(yajl_val obj, const char *key)
{
    if (!obj || !YAJL_IS_OBJECT(obj))
        return NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], key) == 0)
            return obj->u.object.values[i];
    return NULL;
}

static const char *get_str(yajl_val obj, const char *key)
{
    yajl_val v = get(obj, key);
    return v && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf)
        buf[n] = 0;
    *size = (size_t)n;
    return buf;
}

static void fail(runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(runner *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: ", r->file, r->line);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    r->failed++;
}

/* ---- the spectest module ---------------------------------------------------- */

static int host_print(eos_wasm_caller *c, void *ud, uint64_t *slots)
{
    (void)c;
    (void)ud;
    (void)slots;
    return 0;
}

static void add_spectest(runner *r, const char *name, eos_wasm_extern e)
{
    r->spectest_names[r->nspectest] = name;
    r->spectest[r->nspectest++] = e;
}

static int make_spectest(runner *r)
{
    static const uint8_t i32[] = {EOS_WASM_I32}, i64[] = {EOS_WASM_I64}, f32[] = {EOS_WASM_F32},
                         f64[] = {EOS_WASM_F64}, i32f32[] = {EOS_WASM_I32, EOS_WASM_F32},
                         f64f64[] = {EOS_WASM_F64, EOS_WASM_F64};
    static const struct {
        const char *name;
        const uint8_t *params;
        uint32_t n;
    } prints[] = {{"print", NULL, 0},          {"print_i32", i32, 1}, {"print_i64", i64, 1},
                  {"print_f32", f32, 1},       {"print_f64", f64, 1}, {"print_i32_f32", i32f32, 2},
                  {"print_f64_f64", f64f64, 2}};
    for (size_t i = 0; i < EOS_ARRAY_LEN(prints); i++) {
        eos_wasm_functype t = {prints[i].n, 0, prints[i].params, NULL};
        eos_wasm_extern e = {.kind = EOS_WASM_EXTERN_FUNC};
        if (eos_wasm_func_new_host(r->store, &t, host_print, NULL, &e.of.func))
            return -1;
        add_spectest(r, prints[i].name, e);
    }
    struct {
        const char *name;
        eos_wasm_val v;
    } globals[] = {
        {"global_i32", {.type = EOS_WASM_I32, .of.i32 = 666}},
        {"global_i64", {.type = EOS_WASM_I64, .of.i64 = 666}},
        {"global_f32", {.type = EOS_WASM_F32, .of.f32_bits = 0x4426a666}},
        {"global_f64", {.type = EOS_WASM_F64, .of.f64_bits = 0x4084d4cccccccccdull}},
    };
    for (size_t i = 0; i < EOS_ARRAY_LEN(globals); i++) {
        eos_wasm_globaltype gt = {globals[i].v.type, false};
        eos_wasm_extern e = {.kind = EOS_WASM_EXTERN_GLOBAL};
        if (eos_wasm_global_new(r->store, &gt, globals[i].v, &e.of.global))
            return -1;
        add_spectest(r, globals[i].name, e);
    }
    eos_wasm_tabletype tt = {EOS_WASM_FUNCREF, {.min = 10, .max = 20, .has_max = true}};
    eos_wasm_val null = {.type = EOS_WASM_FUNCREF};
    eos_wasm_extern te = {.kind = EOS_WASM_EXTERN_TABLE};
    if (eos_wasm_table_new(r->store, &tt, null, &te.of.table))
        return -1;
    add_spectest(r, "table", te);
    /* table64: the same table with i64 indices. */
    eos_wasm_tabletype tt64 = {EOS_WASM_FUNCREF,
                               {.min = 10, .max = 20, .has_max = true, .is64 = true}};
    eos_wasm_extern te64 = {.kind = EOS_WASM_EXTERN_TABLE};
    if (eos_wasm_table_new(r->store, &tt64, null, &te64.of.table))
        return -1;
    add_spectest(r, "table64", te64);
    eos_wasm_memorytype mt = {.limits = {.min = 1, .max = 2, .has_max = true}};
    eos_wasm_extern me = {.kind = EOS_WASM_EXTERN_MEMORY};
    if (eos_wasm_memory_new(r->store, &mt, &me.of.memory))
        return -1;
    add_spectest(r, "memory", me);
    eos_wasm_memorytype smt = {.limits = {.min = 1, .max = 2, .has_max = true}, .shared = true}; /* threads */
    eos_wasm_extern sme = {.kind = EOS_WASM_EXTERN_MEMORY};
    if (eos_wasm_memory_new(r->store, &smt, &sme.of.memory))
        return -1;
    add_spectest(r, "shared_memory", sme);
    return 0;
}

/* ---- modules ------------------------------------------------------------ */

static eos_wasm_instance *find_reg(runner *r, const char *name, size_t len, bool *skipped)
{
    for (size_t i = r->nregs; i-- > 0;)
        if (strlen(r->regs[i].name) == len && memcmp(r->regs[i].name, name, len) == 0) {
            *skipped = !r->regs[i].inst;
            return r->regs[i].inst;
        }
    return NULL;
}

static int resolve_import(runner *r, const eos_wasm_import_desc *d, eos_wasm_extern *out)
{
    char field[256];
    snprintf(field, sizeof(field), "%.*s", (int)d->name_len, d->name);
    if (d->module_len == 8 && memcmp(d->module, "spectest", 8) == 0) {
        for (size_t i = 0; i < r->nspectest; i++)
            if (strcmp(r->spectest_names[i], field) == 0) {
                *out = r->spectest[i];
                return 0;
            }
        return -1;
    }
    bool skipped = false;
    eos_wasm_instance *inst = find_reg(r, d->module, d->module_len, &skipped);
    if (!inst)
        return skipped ? -2 : -1;
    return eos_wasm_instance_export(inst, field, out) == 0 ? 0 : -1;
}

static int load_module(runner *r, yajl_val cmd, eos_wasm_module **out, eos_diag *diag)
{
    const char *fname = get_str(cmd, "filename");
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", r->dir, fname ? fname : "");
    size_t size;
    uint8_t *bytes = read_file(path, &size);
    if (!bytes) {
        eos_diag_set(diag, EOS_EIO, "read", -1, "cannot read %s", path);
        return EOS_EIO;
    }
    int rc = eos_wasm_module_new(bytes, size, &r->features, out, diag);
    free(bytes);
    return rc;
}

static int instantiate(runner *r, eos_wasm_module *m, eos_wasm_instance **out, eos_diag *diag)
{
    size_t n = eos_wasm_module_import_count(m);
    eos_wasm_extern *imports = calloc(n + 1, sizeof(*imports));
    for (size_t i = 0; i < n; i++) {
        eos_wasm_import_desc d;
        eos_wasm_module_import(m, i, &d);
        int how = resolve_import(r, &d, &imports[i]);
        if (how == -2) {
            /* Registered from a module this tier skipped: skipped too. */
            free(imports);
            return eos_diag_set(diag, EOS_EUNSUPPORTED, "link", -1,
                                "imports %.*s.%.*s from a module this tier does not run",
                                (int)d.module_len, d.module, (int)d.name_len, d.name);
        }
        if (how) {
            free(imports);
            return eos_diag_set(diag, EOS_EUNLINKABLE, "link", -1, "unknown import %.*s.%.*s",
                                (int)d.module_len, d.module, (int)d.name_len, d.name);
        }
    }
    int rc = eos_wasm_instantiate(r->store, m, imports, n, out, diag);
    free(imports);
    return rc;
}

static void cmd_module(runner *r, yajl_val cmd)
{
    eos_diag diag;
    eos_diag_init(&diag);
    eos_wasm_module *m = NULL;
    eos_wasm_instance *inst = NULL;
    int rc = load_module(r, cmd, &m, &diag);
    if (rc == 0)
        rc = instantiate(r, m, &inst, &diag);
    eos_wasm_module_free(m);
    r->current_unsupported = false;
    if (rc == EOS_EUNSUPPORTED && !r->no_decline) {
        /* A module of a feature this tier does not run (SIMD in the compiled
         * tier): skipped, and so are its actions; the reason once per file. */
        if (!r->reason_told)
            printf("line %d: skipped: %s\n", r->line, diag.message);
        r->reason_told = true;
        skip_cmd(r, "module uses a feature this tier does not run (EOS_EUNSUPPORTED)");
        r->current = NULL;
        r->current_unsupported = true;
        return;
    }
    if (rc) {
        fail(r, "module failed: %s: %s", eos_err_name(rc), diag.message);
        r->current = NULL;
        return;
    }
    r->current = inst;
    const char *name = get_str(cmd, "name");
    if (name) {
        r->names = realloc(r->names, (r->nnames + 1) * sizeof(named));
        r->names[r->nnames++] = (named){strdup(name), inst};
    }
    r->passed++;
}

/* (module definition $d ...) decodes the module and keeps its file for
 * (module instance $i $d), which instantiates it under the name $i. */
static void cmd_module_definition(runner *r, yajl_val cmd)
{
    eos_diag diag;
    eos_diag_init(&diag);
    eos_wasm_module *m = NULL;
    int rc = load_module(r, cmd, &m, &diag);
    eos_wasm_module_free(m);
    if (rc) {
        fail(r, "module definition failed: %s: %s", eos_err_name(rc), diag.message);
        return;
    }
    const char *name = get_str(cmd, "name");
    r->defs = realloc(r->defs, (r->ndefs + 1) * sizeof(defn));
    r->defs[r->ndefs++] = (defn){strdup(name ? name : ""), strdup(get_str(cmd, "filename"))};
    r->passed++;
}

static void cmd_module_instance(runner *r, yajl_val cmd)
{
    const char *def = get_str(cmd, "module");
    for (size_t i = r->ndefs; i-- > 0;) {
        if (def && strcmp(r->defs[i].name, def) != 0)
            continue;
        /* Reuses the module command: same file, the instance's name. */
        yajl_val v = get(cmd, "instance");
        const char *keys[2] = {"filename", "name"};
        yajl_val vals[2];
        struct yajl_val_s fn = {.type = yajl_t_string};
        fn.u.string = r->defs[i].filename;
        vals[0] = &fn;
        vals[1] = v;
        struct yajl_val_s obj = {.type = yajl_t_object};
        obj.u.object.keys = keys;
        obj.u.object.values = vals;
        obj.u.object.len = v ? 2 : 1;
        cmd_module(r, &obj);
        return;
    }
    fail(r, "module instance: no definition %s", def ? def : "(last)");
}

static eos_wasm_instance *instance_named(runner *r, const char *name)
{
    if (!name)
        return r->current;
    for (size_t i = r->nnames; i-- > 0;)
        if (strcmp(r->names[i].name, name) == 0)
            return r->names[i].inst;
    return NULL;
}

static void cmd_register(runner *r, yajl_val cmd)
{
    eos_wasm_instance *inst = instance_named(r, get_str(cmd, "name"));
    const char *as = get_str(cmd, "as");
    if (!inst && r->current_unsupported) {
        /* The module it names was skipped (a feature this tier lacks):
         * modules importing from it are skipped as well. */
        skip_cmd(r, "module uses a feature this tier does not run (EOS_EUNSUPPORTED)");
        if (as) {
            r->regs = realloc(r->regs, (r->nregs + 1) * sizeof(named));
            r->regs[r->nregs++] = (named){strdup(as), NULL};
        }
        return;
    }
    if (!inst || !as) {
        fail(r, "register: no such module");
        return;
    }
    r->regs = realloc(r->regs, (r->nregs + 1) * sizeof(named));
    r->regs[r->nregs++] = (named){strdup(as), inst};
    r->passed++;
}

/* ---- values ------------------------------------------------------------- */

static uint8_t type_of(const char *s)
{
    if (!s)
        return 0;
    if (!strcmp(s, "i32"))
        return EOS_WASM_I32;
    if (!strcmp(s, "i64"))
        return EOS_WASM_I64;
    if (!strcmp(s, "f32"))
        return EOS_WASM_F32;
    if (!strcmp(s, "f64"))
        return EOS_WASM_F64;
    if (!strcmp(s, "funcref"))
        return EOS_WASM_FUNCREF;
    if (!strcmp(s, "externref"))
        return EOS_WASM_EXTERNREF;
    if (!strcmp(s, "exnref"))
        return EOS_WASM_EXNREF;
    if (!strcmp(s, "v128"))
        return EOS_WASM_V128;
    return 0;
}

/* Lane width in bytes of a v128's lane_type, 0 when unknown. */
static size_t lane_bytes(const char *lt)
{
    if (!lt)
        return 0;
    if (!strcmp(lt, "i8"))
        return 1;
    if (!strcmp(lt, "i16"))
        return 2;
    if (!strcmp(lt, "i32") || !strcmp(lt, "f32"))
        return 4;
    if (!strcmp(lt, "i64") || !strcmp(lt, "f64"))
        return 8;
    return 0;
}

/* A v128 written as lanes (decimal strings, little-endian lanes). */
static int parse_v128(yajl_val v, uint8_t out[16])
{
    yajl_val lanes = get(v, "value");
    size_t w = lane_bytes(get_str(v, "lane_type"));
    if (!w || !lanes || !YAJL_IS_ARRAY(lanes) || lanes->u.array.len != 16 / w)
        return -1;
    for (size_t i = 0; i < 16 / w; i++) {
        yajl_val l = lanes->u.array.values[i];
        const char *ls = YAJL_IS_STRING(l) ? YAJL_GET_STRING(l) : NULL;
        uint64_t x = ls && strncmp(ls, "nan:", 4) ? strtoull(ls, NULL, 10) : 0;
        memcpy(out + i * w, &x, w);
    }
    return 0;
}

static int parse_val(yajl_val v, eos_wasm_val *out)
{
    memset(out, 0, sizeof(*out));
    out->type = type_of(get_str(v, "type"));
    if (out->type == EOS_WASM_V128)
        return parse_v128(v, out->of.v128);
    const char *s = get_str(v, "value");
    if (!out->type)
        return -1;
    uint64_t x = s && strcmp(s, "null") ? strtoull(s, NULL, 10) : 0;
    switch (out->type) {
    case EOS_WASM_I32:
        out->of.i32 = (int32_t)(uint32_t)x;
        break;
    case EOS_WASM_I64:
        out->of.i64 = (int64_t)x;
        break;
    case EOS_WASM_F32:
        out->of.f32_bits = (uint32_t)x;
        break;
    case EOS_WASM_F64:
        out->of.f64_bits = x;
        break;
    case EOS_WASM_FUNCREF:
        out->of.funcref = NULL;
        break;
    default:
        out->of.externref = s && strcmp(s, "null") ? (void *)(uintptr_t)(x + 1) : NULL;
    }
    return 0;
}

static void val_str(const eos_wasm_val *v, char *buf, size_t n)
{
    switch (v->type) {
    case EOS_WASM_I32:
        snprintf(buf, n, "i32:%" PRIu32, (uint32_t)v->of.i32);
        break;
    case EOS_WASM_I64:
        snprintf(buf, n, "i64:%" PRIu64, (uint64_t)v->of.i64);
        break;
    case EOS_WASM_F32:
        snprintf(buf, n, "f32:0x%08" PRIx32, v->of.f32_bits);
        break;
    case EOS_WASM_F64:
        snprintf(buf, n, "f64:0x%016" PRIx64, v->of.f64_bits);
        break;
    case EOS_WASM_FUNCREF:
        snprintf(buf, n, "funcref:%p", (void *)v->of.funcref);
        break;
    case EOS_WASM_V128: {
        size_t k = (size_t)snprintf(buf, n, "v128:0x");
        for (int i = 15; i >= 0 && k + 2 < n; i--)
            k += (size_t)snprintf(buf + k, n - k, "%02x", v->of.v128[i]);
        break;
    }
    default:
        snprintf(buf, n, "externref:%p", v->of.externref);
        break;
    }
}

/* Whether a float of w bytes (bits b) is the NaN pattern s. */
static bool nan_match(const char *s, uint64_t b, size_t w)
{
    bool canonical = !strcmp(s, "nan:canonical");
    if (w == 4) {
        b &= 0x7fffffffu;
        return canonical ? b == 0x7fc00000u : (b & 0x7fc00000u) == 0x7fc00000u;
    }
    b &= 0x7fffffffffffffffull;
    return canonical ? b == 0x7ff8000000000000ull
                     : (b & 0x7ff8000000000000ull) == 0x7ff8000000000000ull;
}

/* Compares a v128 lane by lane: float lanes may be NaN patterns. */
static bool v128_match(yajl_val want, const eos_wasm_val *got, char *wbuf, size_t n)
{
    const char *lt = get_str(want, "lane_type");
    yajl_val lanes = get(want, "value");
    size_t w = lane_bytes(lt);
    size_t k = (size_t)snprintf(wbuf, n, "v128:%s", lt ? lt : "?");
    if (!w || !lanes || !YAJL_IS_ARRAY(lanes) || lanes->u.array.len != 16 / w)
        return false;
    bool ok = true;
    for (size_t i = 0; i < 16 / w; i++) {
        yajl_val l = lanes->u.array.values[i];
        const char *ls = YAJL_IS_STRING(l) ? YAJL_GET_STRING(l) : "";
        if (k + 2 < n)
            k += (size_t)snprintf(wbuf + k, n - k, " %s", ls);
        uint64_t g = 0;
        memcpy(&g, got->of.v128 + i * w, w);
        if (!strncmp(ls, "nan:", 4)) {
            ok = ok && (lt[0] == 'f') && nan_match(ls, g, w);
            continue;
        }
        uint64_t x = strtoull(ls, NULL, 10);
        if (w < 8)
            x &= (1ull << (8 * w)) - 1;
        ok = ok && x == g;
    }
    return ok;
}

/* Compares a result with an expected value (including NaN patterns). */
static bool val_match(yajl_val want, const eos_wasm_val *got, char *wbuf, size_t n)
{
    const char *wt = get_str(want, "type");
    yajl_val alts = get(want, "values");
    if (wt && !strcmp(wt, "either") && alts && YAJL_IS_ARRAY(alts)) {
        /* (either v...) matches any one of the values. */
        for (size_t i = 0; i < alts->u.array.len; i++)
            if (val_match(alts->u.array.values[i], got, wbuf, n))
                return true;
        snprintf(wbuf, n, "either of %zu values", alts->u.array.len);
        return false;
    }
    if (wt && !strcmp(wt, "refnull")) {
        /* (ref.null) without a heap type: any null reference. */
        snprintf(wbuf, n, "refnull");
        return (got->type == EOS_WASM_FUNCREF && !got->of.funcref) ||
               (got->type == EOS_WASM_EXTERNREF && !got->of.externref);
    }
    uint8_t t = type_of(get_str(want, "type"));
    const char *s = get_str(want, "value");
    snprintf(wbuf, n, "%s:%s", get_str(want, "type"), s ? s : "(any)");
    if (t != got->type)
        return false;
    if (t == EOS_WASM_V128)
        return v128_match(want, got, wbuf, n);
    if ((t == EOS_WASM_F32 || t == EOS_WASM_F64) && s && !strncmp(s, "nan:", 4)) {
        bool canonical = !strcmp(s, "nan:canonical");
        if (t == EOS_WASM_F32) {
            uint32_t b = got->of.f32_bits & 0x7fffffffu;
            return canonical ? b == 0x7fc00000u : (b & 0x7fc00000u) == 0x7fc00000u;
        }
        uint64_t b = got->of.f64_bits & 0x7fffffffffffffffull;
        return canonical ? b == 0x7ff8000000000000ull
                         : (b & 0x7ff8000000000000ull) == 0x7ff8000000000000ull;
    }
    if (t == EOS_WASM_EXNREF) /* opaque: only null or not */
        return s && !strcmp(s, "null") ? got->of.externref == NULL : got->of.externref != NULL;
    if (t == EOS_WASM_FUNCREF || t == EOS_WASM_EXTERNREF) {
        void *p = t == EOS_WASM_FUNCREF ? (void *)got->of.funcref : got->of.externref;
        if (!s)
            return p != NULL;
        if (!strcmp(s, "null"))
            return p == NULL;
        if (t == EOS_WASM_FUNCREF)
            return p != NULL;
        return p == (void *)(uintptr_t)(strtoull(s, NULL, 10) + 1);
    }
    eos_wasm_val w;
    parse_val(want, &w);
    switch (t) {
    case EOS_WASM_I32:
        return w.of.i32 == got->of.i32;
    case EOS_WASM_I64:
        return w.of.i64 == got->of.i64;
    case EOS_WASM_F32:
        return w.of.f32_bits == got->of.f32_bits;
    default:
        return w.of.f64_bits == got->of.f64_bits;
    }
}

/* Performs an invoke or get; returns 0, a trap code, or -1000000 when the
 * action itself is broken (unknown export, bad value). */
#define ACTION_BROKEN (-1000000)

static int do_action(runner *r, yajl_val act, eos_wasm_val *results, size_t *nresults,
                     eos_diag *diag)
{
    const char *type = get_str(act, "type");
    const char *field = get_str(act, "field");
    eos_wasm_instance *inst = instance_named(r, get_str(act, "module"));
    if (!inst || !field)
        return ACTION_BROKEN;
    /* wast2json writes NUL in names as \u0000, which the JSON tree cannot keep;
     * run_file turned it into a private-use marker that is mapped back here. */
    static const char marker[] = "\xef\xa3\xbf";
    char name[1024];
    size_t len = 0;
    for (const char *p = field; *p && len < sizeof(name); len++) {
        if (!strncmp(p, marker, 3)) {
            name[len] = 0;
            p += 3;
        } else {
            name[len] = *p++;
        }
    }
    eos_wasm_extern e;
    if (eos_wasm_instance_export_len(inst, name, len, &e))
        return ACTION_BROKEN;
    if (type && !strcmp(type, "get")) {
        if (e.kind != EOS_WASM_EXTERN_GLOBAL)
            return ACTION_BROKEN;
        results[0] = eos_wasm_global_get(e.of.global);
        *nresults = 1;
        return 0;
    }
    if (e.kind != EOS_WASM_EXTERN_FUNC)
        return ACTION_BROKEN;
    yajl_val args = get(act, "args");
    size_t nargs = args && YAJL_IS_ARRAY(args) ? args->u.array.len : 0;
    eos_wasm_val av[64];
    if (nargs > 64)
        return ACTION_BROKEN;
    for (size_t i = 0; i < nargs; i++)
        if (parse_val(args->u.array.values[i], &av[i]))
            return ACTION_BROKEN;
    const eos_wasm_functype *ft = eos_wasm_func_type(e.of.func);
    if (ft->result_count > 64)
        return ACTION_BROKEN;
    *nresults = ft->result_count;
    return eos_wasm_func_call(r->store, e.of.func, av, nargs, results, ft->result_count, diag);
}

static void cmd_action(runner *r, yajl_val cmd, const char *type)
{
    eos_wasm_val results[64];
    size_t n = 0;
    eos_diag diag;
    eos_diag_init(&diag);
    int rc = do_action(r, get(cmd, "action"), results, &n, &diag);
    if (rc == ACTION_BROKEN && r->current_unsupported && !get_str(get(cmd, "action"), "module")) {
        skip_cmd(r, "action on a module that uses an unsupported feature");
        return;
    }
    if (rc == ACTION_BROKEN) {
        fail(r, "%s: action cannot be performed (unknown module or export)", type);
        return;
    }
    if (!strcmp(type, "assert_exception")) {
        /* An exception no handler caught reaches the host as its own trap. */
        if (rc != EOS_TRAP_EXCEPTION)
            fail(r, "assert_exception: expected an uncaught exception, got %s",
                 rc ? eos_err_name(rc) : "success");
        else
            r->passed++;
        return;
    }
    if (!strcmp(type, "assert_trap") || !strcmp(type, "assert_exhaustion")) {
        if (!eos_is_trap(rc)) {
            fail(r, "%s: expected trap \"%s\", got %s", type, get_str(cmd, "text"),
                 rc ? eos_err_name(rc) : "success");
            return;
        }
        if (!strcmp(type, "assert_exhaustion") && rc != EOS_TRAP_STACK_EXHAUSTED) {
            fail(r, "%s: expected stack exhaustion, got %s", type, eos_err_name(rc));
            return;
        }
        r->passed++;
        return;
    }
    if (rc) {
        fail(r, "%s: unexpected %s: %s", type, eos_err_name(rc), diag.message);
        return;
    }
    if (!strcmp(type, "action")) {
        r->passed++;
        return;
    }
    yajl_val exp = get(cmd, "expected");
    yajl_val either = get(cmd, "either");
    if (!exp && either && YAJL_IS_ARRAY(either)) {
        /* One result that may be any of the alternatives (relaxed SIMD). */
        char wbuf[256], gbuf[128];
        for (size_t i = 0; n == 1 && i < either->u.array.len; i++)
            if (val_match(either->u.array.values[i], &results[0], wbuf, sizeof(wbuf))) {
                r->passed++;
                return;
            }
        if (n == 1)
            val_str(&results[0], gbuf, sizeof(gbuf));
        fail(r, "assert_return: none of the %zu alternatives matches %s", either->u.array.len,
             n == 1 ? gbuf : "(no single result)");
        return;
    }
    size_t ne = exp && YAJL_IS_ARRAY(exp) ? exp->u.array.len : 0;
    if (ne != n) {
        fail(r, "%s: expected %zu results, got %zu", type, ne, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char wbuf[256], gbuf[128];
        if (!val_match(exp->u.array.values[i], &results[i], wbuf, sizeof(wbuf))) {
            val_str(&results[i], gbuf, sizeof(gbuf));
            fail(r, "assert_return: result %zu: expected %s, got %s", i, wbuf, gbuf);
            return;
        }
    }
    r->passed++;
}

static void cmd_assert_module(runner *r, yajl_val cmd, const char *type)
{
    const char *mt = get_str(cmd, "module_type");
    yajl_val rejected = get(cmd, "text_rejected");
    if (mt && !strcmp(mt, "text") && rejected && YAJL_IS_TRUE(rejected)) {
        r->passed++; /* the text parser refused it, as the script expects */
        return;
    }
    if (mt && !strcmp(mt, "text")) {
        skip_cmd(r, "text-format assert_malformed (binary decoder only)");
        return;
    }
    eos_diag diag;
    eos_diag_init(&diag);
    eos_wasm_module *m = NULL;
    int rc = load_module(r, cmd, &m, &diag);
    bool decode_only = !strcmp(type, "assert_invalid") || !strcmp(type, "assert_malformed");
    if (decode_only) {
        eos_wasm_module_free(m);
        if (rc == 0)
            fail(r, "%s: module accepted, expected \"%s\"", type, get_str(cmd, "text"));
        else
            r->passed++;
        return;
    }
    if (rc == EOS_EUNSUPPORTED && !r->no_decline) {
        skip_cmd(r, "module uses a feature this tier does not run (EOS_EUNSUPPORTED)");
        return;
    }
    if (rc) {
        fail(r, "%s: module rejected at decode: %s", type, diag.message);
        return;
    }
    eos_wasm_instance *inst = NULL;
    rc = instantiate(r, m, &inst, &diag);
    eos_wasm_module_free(m);
    if (rc == EOS_EUNSUPPORTED && !r->no_decline) {
        skip_cmd(r, "module imports from a module this tier does not run");
        return;
    }
    bool ok = !strcmp(type, "assert_unlinkable") ? rc == EOS_EUNLINKABLE : eos_is_trap(rc);
    if (ok)
        r->passed++;
    else
        fail(r, "%s: expected \"%s\", got %s (%s)", type, get_str(cmd, "text"),
             rc ? eos_err_name(rc) : "success", diag.message);
}

/* ---- groups and expectations (latest testsuite) ------------------------------ */

/* Counts a command not run, and why, in the current group. */
static void skip_cmd(runner *r, const char *why)
{
    r->skipped++;
    if (!r->ngroups)
        return;
    group *g = &r->groups[r->ngroups - 1];
    size_t i = 0;
    while (i < g->nreasons && strcmp(g->reasons[i], why) != 0)
        i++;
    if (i == g->nreasons && i < 16)
        g->reasons[g->nreasons++] = (char *)why;
    if (i < 16)
        g->reason_counts[i]++;
}

static void load_expectations(runner *r, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot read\n", path);
        exit(2);
    }
    char line[1024];
    while (fgets(line, sizeof(line), f)) {
        char file[512];
        long n;
        int used = 0;
        if (line[0] == '#' || sscanf(line, "%511s %ld %n", file, &n, &used) < 2)
            continue;
        line[strcspn(line, "\n")] = 0;
        r->expects = realloc(r->expects, (r->nexpects + 1) * sizeof(expect));
        r->expects[r->nexpects++] = (expect){strdup(file), n, strdup(line + used)};
    }
    fclose(f);
}

/* The expectation of a converted file, by its path in the testsuite
 * ("suite_file", without .wast). */
static const expect *expectation(runner *r)
{
    size_t len = strlen(r->suite_file);
    if (len > 5 && !strcmp(r->suite_file + len - 5, ".wast"))
        len -= 5;
    for (size_t i = 0; i < r->nexpects; i++)
        if (strlen(r->expects[i].file) == len && !memcmp(r->expects[i].file, r->suite_file, len))
            return &r->expects[i];
    return NULL;
}

static void account(runner *r, const char *path)
{
    const expect *e = expectation(r);
    long allowed = e ? e->failures : 0;
    if (r->failed > allowed) {
        printf("%s: %ld failures, %ld expected\n", path, r->failed, allowed);
        r->over++;
    } else if (e && r->failed < allowed) {
        printf("%s: %ld failures, fewer than the %ld expected (lower the expectation)\n", path,
               r->failed, allowed);
    }
    if (!r->ngroups)
        return;
    group *g = &r->groups[r->ngroups - 1];
    g->files++;
    g->passed += r->passed;
    g->failed += r->failed;
    g->expected += r->failed < allowed ? r->failed : allowed;
    g->skipped += r->skipped;
}

static void print_groups(runner *r)
{
    printf("\n%-22s %6s %8s %8s %10s %8s\n", "proposal", "files", "passed", "failed",
           "(expected)", "skipped");
    for (size_t i = 0; i < r->ngroups; i++) {
        group *g = &r->groups[i];
        printf("%-22s %6ld %8ld %8ld %10ld %8ld\n", g->name, g->files, g->passed, g->failed,
               g->expected, g->skipped);
        for (size_t k = 0; k < g->nreasons; k++)
            printf("%-22s   %ld skipped: %s\n", "", g->reason_counts[k], g->reasons[k]);
    }
}

static void run_file(runner *r, const char *path, bool skip, long *tot)
{
    size_t size;
    char *text = (char *)read_file(path, &size);
    for (char *p = text; p && (p = strstr(p, "\\u0000")) != NULL; p += 6)
        memcpy(p, "\\uf8ff", 6);
    char err[256];
    yajl_val root = text ? yajl_tree_parse(text, err, sizeof(err)) : NULL;
    free(text);
    r->file = path;
    r->passed = r->failed = r->skipped = 0;
    r->suite_file[0] = 0;
    r->reason_told = false;
    if (!root) {
        fprintf(stderr, "%s: cannot read or parse\n", path);
        r->failed = 1;
        goto out;
    }
    char *dir = strdup(path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        strcpy(dir, ".");
    r->dir = dir;
    const char *sf = get_str(root, "suite_file");
    snprintf(r->suite_file, sizeof(r->suite_file), "%s", sf ? sf : "");
    eos_wasm_limits lim = {0};
    lim.native_stack_size = 8 << 20;
    eos_wasm_store_new(&lim, &r->store);
    r->nspectest = 0;
    make_spectest(r);
    yajl_val cmds = get(root, "commands");
    for (size_t i = 0; cmds && YAJL_IS_ARRAY(cmds) && i < cmds->u.array.len; i++) {
        yajl_val c = cmds->u.array.values[i];
        const char *type = get_str(c, "type");
        yajl_val line = get(c, "line");
        r->line = line && YAJL_IS_INTEGER(line) ? (int)YAJL_GET_INTEGER(line) : 0;
        const char *text_error = get_str(c, "text_error");
        if (skip || !type)
            skip_cmd(r, r->skip_reason ? r->skip_reason : "file not run");
        else if (text_error && !strcmp(type, "assert_invalid"))
            skip_cmd(r, "assert_invalid: refused by the text parser, not by the engine");
        else if (text_error)
            fail(r, "%s: not converted: %s", type, text_error);
        else if (!strcmp(type, "module_definition"))
            cmd_module_definition(r, c);
        else if (!strcmp(type, "module_instance"))
            cmd_module_instance(r, c);
        else if (!strncmp(type, "assert_malformed_", 17) || !strncmp(type, "assert_invalid_", 15))
            skip_cmd(r, "custom-section assertions: not run");
        else if (!strcmp(type, "module"))
            cmd_module(r, c);
        else if (!strcmp(type, "register"))
            cmd_register(r, c);
        else if (!strcmp(type, "action") || !strcmp(type, "assert_return") ||
                 !strcmp(type, "assert_trap") || !strcmp(type, "assert_exhaustion") ||
                 !strcmp(type, "assert_exception"))
            cmd_action(r, c, type);
        else if (!strncmp(type, "assert_", 7))
            cmd_assert_module(r, c, type);
        else
            skip_cmd(r, "command kind not run (thread, wait, ...)");
    }
    eos_wasm_store_free(r->store);
    r->store = NULL;
    r->current = NULL;
    for (size_t i = 0; i < r->nnames; i++)
        free(r->names[i].name);
    for (size_t i = 0; i < r->nregs; i++)
        free(r->regs[i].name);
    for (size_t i = 0; i < r->ndefs; i++) {
        free(r->defs[i].name);
        free(r->defs[i].filename);
    }
    free(r->defs);
    r->defs = NULL;
    r->ndefs = 0;
    free(r->names);
    free(r->regs);
    r->names = r->regs = NULL;
    r->nnames = r->nregs = 0;
    free(dir);
    yajl_tree_free(root);
out:
    printf("%s: %ld passed, %ld failed, %ld skipped\n", path, r->passed, r->failed, r->skipped);
    account(r, path);
    tot[0] += r->passed;
    tot[1] += r->failed;
    tot[2] += r->skipped;
}

int main(int argc, char **argv)
{
    runner r;
    memset(&r, 0, sizeof(r));
    r.features.wasm2_const_globals = true; /* the snapshot's suite predates 3.0 */
    setvbuf(stdout, NULL, _IOLBF, 0); /* keeps results and failures in order */
    bool skip = false;
    long tot[3] = {0, 0, 0};
    int files = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--no-decline")) {
            r.no_decline = true;
            continue;
        }
        if (!strcmp(argv[i], "--lazy")) {
            r.features.lazy_translation_min = 1;
            continue;
        }
        if (!strcmp(argv[i], "--mvp")) {
            r.features.disable_multi_memory = true;
            continue;
        }
        if (!strcmp(argv[i], "--wasm1")) {
            r.features.disable_multi_memory = true;
            r.features.disable_multi_table = true;
            continue;
        }
        if (!strcmp(argv[i], "--all")) {
            r.features.disable_multi_memory = false;
            r.features.disable_multi_table = false;
            continue;
        }
        if (!strcmp(argv[i], "--skip")) {
            skip = true;
            continue;
        }
        if (!strcmp(argv[i], "--latest")) {
            r.features.wasm2_const_globals = false;
            continue;
        }
        if (!strcmp(argv[i], "--run")) {
            skip = false;
            r.skip_reason = NULL;
            continue;
        }
        if (!strcmp(argv[i], "--skip-because") && i + 1 < argc) {
            skip = true;
            r.skip_reason = argv[++i];
            continue;
        }
        if (!strcmp(argv[i], "--expect") && i + 1 < argc) {
            load_expectations(&r, argv[++i]);
            continue;
        }
        if (!strcmp(argv[i], "--group") && i + 1 < argc) {
            skip = false;
            r.skip_reason = NULL;
            r.groups = realloc(r.groups, (r.ngroups + 1) * sizeof(group));
            memset(&r.groups[r.ngroups], 0, sizeof(group));
            r.groups[r.ngroups++].name = argv[++i];
            continue;
        }
        if (!strcmp(argv[i], "--bounds") && i + 1 < argc) {
            i++;
            const char *why = NULL;
            if (!strcmp(argv[i], "guard") && eos_wasm_bounds_guard_supported(&why) != 0) {
                printf("skipped: guard-page bounds checks are not available: %s\n", why);
                return 77;
            }
            r.features.bounds =
                !strcmp(argv[i], "guard") ? EOS_WASM_BOUNDS_GUARD : EOS_WASM_BOUNDS_EXPLICIT;
            continue;
        }
        if (!strcmp(argv[i], "--tier") && i + 1 < argc) {
            i++;
            r.features.tier = !strcmp(argv[i], "compiled") ? EOS_WASM_TIER_COMPILED
                              : !strcmp(argv[i], "auto")   ? EOS_WASM_TIER_AUTO
                                                           : EOS_WASM_TIER_INTERP;
            continue;
        }
        run_file(&r, argv[i], skip, tot);
        files++;
    }
    if (r.ngroups)
        print_groups(&r);
    printf("summary: %d files, %ld passed, %ld failed, %ld skipped\n", files, tot[0], tot[1],
           tot[2]);
    for (size_t i = 0; i < r.nexpects; i++) {
        free(r.expects[i].file);
        free(r.expects[i].reason);
    }
    free(r.expects);
    free(r.groups);
    if (r.nexpects || r.ngroups)
        return r.over ? 1 : 0;
    return tot[1] ? 1 : 0;
}
