/* The compiled tier: LLVM (through its C API and ORC's LLJIT) turns a
 * validated module into native code, in chunks so memory stays bounded, on
 * the loading thread (tier compiled) or on a small pool of low-priority
 * background threads (tier auto; a language runtime is compiled in part, the
 * functions that ran during a warm-up). LLJIT writes code, then maps it
 * read-execute. Instances pick their tier on their first call. */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Object.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <llvm/Config/llvm-config.h>

/* Wasm body bytes per LLVM module: bounds the IR alive at once. */
#define CHUNK_BYTES (256u * 1024)
/* The same at O2, smaller: a background compilation stops only between
 * chunks, and a shutdown waits for it, so one chunk's optimisation must take
 * seconds at most even on a busy machine. */
#define O2_CHUNK_BYTES (64u << 10)
/* Past this many body bytes (a language runtime such as SpiderMonkey), the
 * full O2 pipeline would take many minutes: such modules get a quick one
 * (SSA, instruction combining, CFG clean-up) and LLVM's fast code generator. */
#define LARGE_BYTES (4u << 20)
/* A function body past this (an interpreter's dispatch loop of tens of
 * thousands of blocks) hits analyses of LLVM's O2 code generation that grow
 * with the square of a loop's blocks (minutes for one function): it gets the
 * quick pipeline, in a chunk of its own. */
#define HUGE_FN_BYTES (32u << 10)
/* Host calls of a partially compiled module before it is compiled. */
#define WARM_UP_CALLS 64

struct eos_wasm__jit {
    LLVMOrcLLJITRef lljit;
    void **fns;     /* typed code of each defined function */
    void **entries; /* slots entries */
    uint64_t compile_ns;
    uint64_t code_size;
    uint32_t count; /* functions compiled */
    bool from_cache;
    bool guard; /* compiled with guard-page bounds checks (guard.c) */
};

static pthread_once_t llvm_once = PTHREAD_ONCE_INIT;

/* Set by eos_wasm_jit_shutdown(): background compilations stop at their next
 * chunk and no new one starts. */
static atomic_bool stopping;

static void llvm_init(void)
{
    LLVMInitializeNativeTarget();
    LLVMInitializeNativeAsmPrinter();
}

bool eos_wasm_jit_available(void)
{
    return true;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* True when m waits for or is in a background compile (a compile on the
 * loading thread never is) and the job holds the only reference: its app was
 * unloaded or replaced while m waited or compiled, so its code would never
 * run. Reloading a large app every few seconds would otherwise keep one
 * decoded module and its LLVM state per reload alive for minutes. */
static bool abandoned(const eos_wasm_module *m)
{
    return atomic_load_explicit(&m->jit_state, memory_order_acquire) == EOS_WASM_COMPILE_PENDING &&
           atomic_load_explicit(&m->refs, memory_order_acquire) == 1;
}

static int llvm_fail(LLVMErrorRef e, char *msg, size_t size)
{
    char *m = LLVMGetErrorMessage(e);
    snprintf(msg, size, "%s", m);
    LLVMDisposeErrorMessage(m);
    return EOS_EUNSUPPORTED;
}

static void jit_free(struct eos_wasm__jit *j)
{
    if (!j)
        return;
    if (j->guard)
        eos_wasm__guard_code_remove(j);
    if (j->lljit)
        LLVMOrcDisposeLLJIT(j->lljit);
    eos_free(j->fns, 0);
    eos_free(j->entries, 0);
    eos_free(j, sizeof(*j));
}

/* ---- the code: relocatable objects, linked by ORC ------------------------- */

/* The compiled code of a module, as kept in the code cache: "EOSJIT01", a
 * 32-bit count of objects (little endian), then each object as a 64-bit
 * size and its bytes (relocatable ELF). Objects name the runtime helpers and
 * each other's functions by symbol; only linking binds addresses. */
#define BLOB_MAGIC "EOSJIT01"
#define BLOB_HEAD  12u

typedef struct blob {
    uint8_t *p;
    size_t len, cap;
    uint32_t count;
    bool failed;
} blob;

static void blob_add(blob *b, const void *data, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1u << 16;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = eos_realloc(b->p, b->cap, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void blob_object(blob *b, const void *obj, size_t n)
{
    uint8_t size[8];
    put_le(size, n, 8);
    blob_add(b, size, 8);
    blob_add(b, obj, n);
    b->count++;
}

/* Translates, optimises (LLVM's O2 pipeline) and compiles one chunk to an
 * object file appended to out; the chunk's IR is freed before the next. */
static int compile_chunk(const eos_wasm_module *m, LLVMTargetMachineRef tm,
                         LLVMTargetMachineRef code_tm, bool large, const uint8_t *sel,
                         uint32_t first, uint32_t count, blob *out, char *msg, size_t size)
{
    LLVMContextRef cx = LLVMContextCreate();
    LLVMModuleRef mod = LLVMModuleCreateWithNameInContext("wasm", cx);
    LLVMTargetDataRef td = LLVMCreateTargetDataLayout(code_tm);
    char *layout = LLVMCopyStringRepOfTargetData(td);
    LLVMSetDataLayout(mod, layout);
    LLVMDisposeMessage(layout);
    LLVMDisposeTargetData(td);
    char *triple = LLVMGetTargetMachineTriple(code_tm);
    LLVMSetTarget(mod, triple);
    LLVMDisposeMessage(triple);
    LLVMMemoryBufferRef obj = NULL;
    int rc = eos_wasm__jit_translate(m, cx, mod, first, count, sel);
    if (rc) {
        snprintf(msg, size, "%s",
                 rc == EOS_EUNSUPPORTED ? "an instruction the compiled tier does not translate"
                                        : "out of memory translating functions");
        goto out;
    }
    char *verr = NULL;
    if (LLVMVerifyModule(mod, LLVMReturnStatusAction, &verr)) {
        snprintf(msg, size, "internal error: invalid IR for functions %u..%u: %.160s", first,
                 first + count - 1, verr ? verr : "");
        LLVMDisposeMessage(verr);
        rc = EOS_EUNSUPPORTED;
        goto out;
    }
    LLVMDisposeMessage(verr);
    LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
    LLVMErrorRef e = LLVMRunPasses(
        mod, large ? "function(mem2reg,instcombine,simplifycfg)" : "default<O2>", tm, po);
    LLVMDisposePassBuilderOptions(po);
    if (e) {
        rc = llvm_fail(e, msg, size);
        goto out;
    }
    char *err = NULL;
    if (LLVMTargetMachineEmitToMemoryBuffer(code_tm, mod, LLVMObjectFile, &err, &obj)) {
        snprintf(msg, size, "cannot generate code: %.200s", err ? err : "");
        LLVMDisposeMessage(err);
        rc = EOS_EUNSUPPORTED;
        goto out;
    }
    blob_object(out, LLVMGetBufferStart(obj), LLVMGetBufferSize(obj));
    if (out->failed) {
        snprintf(msg, size, "out of memory");
        rc = EOS_ENOMEM;
    }
out:
    if (obj)
        LLVMDisposeMemoryBuffer(obj);
    LLVMDisposeModule(mod);
    LLVMContextDispose(cx);
    return rc;
}

/* Guard mode: tells the fault handler where j's code lies, one range per
 * object (its functions are contiguous in its text section), from the sizes
 * of the function symbols and their linked addresses. */
static int register_code(const eos_wasm_module *m, struct eos_wasm__jit *j, const uint8_t *code,
                         char *msg, size_t size)
{
    uint32_t count = (uint32_t)get_le(code + 8, 4);
    size_t off = BLOB_HEAD;
    int rc = 0;
    for (uint32_t i = 0; i < count && rc == 0; i++) {
        size_t n = (size_t)get_le(code + off, 8);
        LLVMMemoryBufferRef buf =
            LLVMCreateMemoryBufferWithMemoryRange((const char *)code + off + 8, n, "wasm", 0);
        off += 8 + n;
        char *err = NULL;
        LLVMBinaryRef bin = LLVMCreateBinary(buf, NULL, &err);
        if (!bin) {
            snprintf(msg, size, "cannot read compiled code: %.160s", err ? err : "");
            LLVMDisposeMessage(err);
            LLVMDisposeMemoryBuffer(buf);
            return EOS_EINVAL;
        }
        uintptr_t lo = UINTPTR_MAX, hi = 0;
        LLVMSymbolIteratorRef it = LLVMObjectFileCopySymbolIterator(bin);
        for (; !LLVMObjectFileIsSymbolIteratorAtEnd(bin, it); LLVMMoveToNextSymbol(it)) {
            const char *name = LLVMGetSymbolName(it);
            uint64_t sz = LLVMGetSymbolSize(it);
            unsigned k;
            char extra;
            if (!name || (name[0] != 'f' && name[0] != 'e') || !sz ||
                sscanf(name + 1, "%u%c", &k, &extra) != 1 || k >= m->code_count)
                continue;
            uintptr_t a = (uintptr_t)(name[0] == 'f' ? j->fns[k] : j->entries[k]);
            if (!a)
                continue;
            lo = a < lo ? a : lo;
            hi = a + sz > hi ? a + sz : hi;
        }
        LLVMDisposeSymbolIterator(it);
        LLVMDisposeBinary(bin);
        LLVMDisposeMemoryBuffer(buf);
        if (hi > lo && eos_wasm__guard_code_add(lo, hi, j) != 0) {
            snprintf(msg, size, "too much compiled code for the guard-page registry");
            rc = EOS_ELIMIT;
        }
    }
    return rc;
}

/* Links the objects of code (borrowed) into a fresh LLJIT in j, binding the
 * helpers by name, and looks up every function compiled (sel, borrowed;
 * NULL: all). LLJIT writes the code, then maps it read-execute. On failure
 * j->lljit is gone. */
static int link_code(const eos_wasm_module *m, struct eos_wasm__jit *j, const uint8_t *sel,
                     const uint8_t *code, size_t code_size, char *msg, size_t size)
{
    if (code_size < BLOB_HEAD || memcmp(code, BLOB_MAGIC, 8) != 0) {
        snprintf(msg, size, "not compiled code");
        return EOS_EINVAL;
    }
    uint32_t count = (uint32_t)get_le(code + 8, 4);
    size_t off = BLOB_HEAD;
    for (uint32_t i = 0; i < count; i++) {
        if (code_size - off < 8 || get_le(code + off, 8) > code_size - off - 8) {
            snprintf(msg, size, "truncated compiled code");
            return EOS_EINVAL;
        }
        off += 8 + (size_t)get_le(code + off, 8);
    }
    if (off != code_size) {
        snprintf(msg, size, "trailing bytes after the compiled code");
        return EOS_EINVAL;
    }
    int rc = 0;
    LLVMErrorRef e = LLVMOrcCreateLLJIT(&j->lljit, NULL);
    if (e) {
        j->lljit = NULL;
        return llvm_fail(e, msg, size);
    }
    LLVMOrcJITDylibRef jd = LLVMOrcLLJITGetMainJITDylib(j->lljit);
    /* The helpers compiled code calls, at this process's addresses. */
    LLVMOrcCSymbolMapPair helpers[EOS_WASM__RT_COUNT_];
    for (int h = 0; h < EOS_WASM__RT_COUNT_; h++) {
        char name[32];
        snprintf(name, sizeof(name), EOS_WASM__RT_SYMBOL, h);
        helpers[h].Name = LLVMOrcLLJITMangleAndIntern(j->lljit, name);
        helpers[h].Sym.Address = (LLVMOrcExecutorAddress)(uintptr_t)eos_wasm__jit_rts[h].fn;
        helpers[h].Sym.Flags.GenericFlags =
            LLVMJITSymbolGenericFlagsExported | LLVMJITSymbolGenericFlagsCallable;
        helpers[h].Sym.Flags.TargetFlags = 0;
    }
    e = LLVMOrcJITDylibDefine(jd, LLVMOrcAbsoluteSymbols(helpers, EOS_WASM__RT_COUNT_));
    if (e)
        goto fail;
    /* libm and the C library, for what LLVM lowers to library calls. */
    LLVMOrcDefinitionGeneratorRef gen;
    e = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
        &gen, LLVMOrcLLJITGetGlobalPrefix(j->lljit), NULL, NULL);
    if (e)
        goto fail;
    LLVMOrcJITDylibAddGenerator(jd, gen);
    off = BLOB_HEAD;
    for (uint32_t i = 0; i < count; i++) {
        size_t n = (size_t)get_le(code + off, 8);
        LLVMMemoryBufferRef buf =
            LLVMCreateMemoryBufferWithMemoryRangeCopy((const char *)code + off + 8, n, "wasm");
        off += 8 + n;
        if ((e = LLVMOrcLLJITAddObjectFile(j->lljit, jd, buf)))
            goto fail;
    }
    for (uint32_t k = 0; k < m->code_count; k++) {
        if (sel && !sel[k])
            continue; /* interpreted: no code, calls take the general path */
        char name[32];
        LLVMOrcExecutorAddress a = 0, b = 0;
        snprintf(name, sizeof(name), "f%u", k);
        e = LLVMOrcLLJITLookup(j->lljit, &a, name);
        if (!e) {
            snprintf(name, sizeof(name), "e%u", k);
            e = LLVMOrcLLJITLookup(j->lljit, &b, name);
        }
        if (e)
            goto fail;
        j->fns[k] = (void *)(uintptr_t)a;
        j->entries[k] = (void *)(uintptr_t)b;
    }
    if (j->guard && (rc = register_code(m, j, code, msg, size)) != 0) {
        eos_wasm__guard_code_remove(j);
        LLVMOrcDisposeLLJIT(j->lljit);
        j->lljit = NULL;
        return rc;
    }
    return 0;
fail:
    rc = llvm_fail(e, msg, size);
    LLVMOrcDisposeLLJIT(j->lljit);
    j->lljit = NULL;
    memset(j->fns, 0, m->code_count * sizeof(void *));
    memset(j->entries, 0, m->code_count * sizeof(void *));
    return rc;
}

/* Guard-mode code since its accesses became volatile (exact traps): code
 * cached by earlier builds, which could lose a trap, is not reused. */
#define GUARD_KEY "guard-exact"

/* The options the code depends on besides the module: format, compiler,
 * target, CPU, code generation, bounds checks and the set of functions compiled (sel, one
 * bit per defined function in hex; "all" when NULL). */
static char *code_options(const char *triple, const char *cpu, const char *features, bool large,
                          bool guard, const uint8_t *sel, uint32_t code_count)
{
    const char *fmt =
        "%s;llvm=%s;triple=%s;cpu=%s;features=%s;opt=%s;chunk=%u;huge=%u;bounds=%s;set=%s";
    const char *opt = large ? "large" : "O2";
    size_t bytes = ((size_t)code_count + 7) / 8;
    char *set = eos_malloc(sel ? 2 * bytes + 1 : 4);
    if (!set)
        return NULL;
    if (!sel) {
        memcpy(set, "all", 4);
    } else {
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < bytes; i++) {
            unsigned v = 0;
            for (unsigned b = 0; b < 8 && i * 8 + b < code_count; b++)
                v |= (unsigned)(sel[i * 8 + b] != 0) << b;
            set[2 * i] = hex[v >> 4];
            set[2 * i + 1] = hex[v & 15];
        }
        set[2 * bytes] = 0;
    }
    int n = snprintf(NULL, 0, fmt, BLOB_MAGIC, LLVM_VERSION_STRING, triple, cpu, features, opt,
                     large ? CHUNK_BYTES : O2_CHUNK_BYTES, HUGE_FN_BYTES,
                     guard ? GUARD_KEY : "explicit", set);
    char *s = n > 0 ? eos_malloc((size_t)n + 1) : NULL;
    if (s)
        snprintf(s, (size_t)n + 1, fmt, BLOB_MAGIC, LLVM_VERSION_STRING, triple, cpu, features, opt,
                 large ? CHUNK_BYTES : O2_CHUNK_BYTES, HUGE_FN_BYTES,
                 guard ? GUARD_KEY : "explicit", set);
    eos_free(set, 0);
    return s;
}

/* The functions of a partially compiled module that have run (the
 * interpreter translated them): one byte per defined function, and their
 * count in *n. NULL when out of memory. */
static uint8_t *ran_set(const eos_wasm_module *m, uint32_t *n)
{
    uint8_t *sel = eos_calloc(m->code_count ? m->code_count : 1, 1);
    *n = 0;
    for (uint32_t k = 0; sel && k < m->code_count; k++)
        if (__atomic_load_n(&m->codes[k].threaded, __ATOMIC_ACQUIRE)) {
            sel[k] = 1;
            (*n)++;
        }
    return sel;
}

/* Compiles m (or links it from the code cache): every function, or, when
 * partial, those that have run. A background compilation stops between
 * chunks once the engine shuts down. */
static int compile_module(const eos_wasm_module *m, bool background, bool partial,
                          struct eos_wasm__jit **out, char *msg, size_t size)
{
    pthread_once(&llvm_once, llvm_init);
    uint64_t t0 = now_ns();
    *out = NULL;
    int rc = EOS_ENOMEM;
    LLVMTargetMachineRef tm = NULL, code_tm = NULL, quick_tm = NULL;
    blob code = {0};
    char *options = NULL;
    uint8_t *sel = NULL;
    const eos_wasm_code_cache *cache = m->features.code_cache;
    struct eos_wasm__jit *j = eos_calloc(1, sizeof(*j));
    if (!j)
        return EOS_ENOMEM;
    j->count = m->code_count;
    j->guard = m->features.bounds == EOS_WASM_BOUNDS_GUARD;
    j->fns = eos_calloc(m->code_count + 1, sizeof(void *));
    j->entries = eos_calloc(m->code_count + 1, sizeof(void *));
    char *triple = LLVMGetDefaultTargetTriple();
    char *cpu = LLVMGetHostCPUName(), *features = LLVMGetHostCPUFeatures();
    if (!j->fns || !j->entries || (partial && !(sel = ran_set(m, &j->count)))) {
        snprintf(msg, size, "out of memory");
        goto out;
    }
    uint64_t total = 0;
    for (uint32_t k = 0; k < m->code_count; k++)
        if (!sel || sel[k])
            total += m->codes[k].body_size;
    j->code_size = total;
    bool large = total > LARGE_BYTES;
    if (cache &&
        !(options = code_options(triple, cpu, features, large, j->guard, sel, m->code_count))) {
        snprintf(msg, size, "out of memory");
        goto out;
    }
    if (cache) {
        uint8_t *cached = NULL;
        size_t cached_size = 0;
        int g = cache->get(cache->ctx, m->bytes, m->size, options, &cached, &cached_size);
        if (g == 0) {
            char why[160];
            g = link_code(m, j, sel, cached, cached_size, why, sizeof(why));
            eos_free(cached, cached_size);
            if (g == 0) {
                j->from_cache = true;
                rc = 0;
                goto out;
            }
            EOS_WARN("compile", "the cached code does not link (%s): compiling again", why);
        } else if (g != EOS_ENOTFOUND) {
            EOS_WARN("compile", "a cached entry failed its integrity check: compiling again");
        }
    }
    /* One target machine for the passes, one for code. */
    LLVMTargetRef target;
    char *terr = NULL;
    if (LLVMGetTargetFromTriple(triple, &target, &terr)) {
        snprintf(msg, size, "no LLVM target for %s: %s", triple, terr ? terr : "");
        LLVMDisposeMessage(terr);
        rc = EOS_EUNSUPPORTED;
        goto out;
    }
    tm = LLVMCreateTargetMachine(target, triple, cpu, features, LLVMCodeGenLevelDefault,
                                 LLVMRelocDefault, LLVMCodeModelJITDefault);
    code_tm = LLVMCreateTargetMachine(target, triple, cpu, features,
                                      large ? LLVMCodeGenLevelNone : LLVMCodeGenLevelDefault,
                                      LLVMRelocDefault, LLVMCodeModelJITDefault);
    quick_tm = LLVMCreateTargetMachine(target, triple, cpu, features, LLVMCodeGenLevelNone,
                                       LLVMRelocDefault, LLVMCodeModelJITDefault);
    code.count = 0;
    blob_add(&code, BLOB_MAGIC "\0\0\0\0", BLOB_HEAD);
    rc = code.failed ? EOS_ENOMEM : 0;
    for (uint32_t first = 0; first < m->code_count && rc == 0;) {
        if (abandoned(m)) {
            snprintf(msg, size, "the module was unloaded");
            rc = EOS_ENOTFOUND;
            break;
        }
        uint32_t count = 0;
        uint64_t bytes = 0;
        bool huge = false;
        const uint64_t chunk_bytes = large ? CHUNK_BYTES : O2_CHUNK_BYTES;
        while (first + count < m->code_count && (bytes == 0 || bytes < chunk_bytes)) {
            uint32_t b = !sel || sel[first + count] ? m->codes[first + count].body_size : 0;
            if (!large && b > HUGE_FN_BYTES) {
                /* Alone in its chunk, quickly. */
                if (bytes == 0) {
                    huge = true;
                    bytes = b;
                    count++;
                }
                break;
            }
            bytes += b;
            count++;
        }
        if (bytes)
            rc = compile_chunk(m, tm, huge ? quick_tm : code_tm, large || huge, sel, first, count,
                               &code, msg, size);
        first += count;
        if (rc == 0 && background && atomic_load(&stopping)) {
            snprintf(msg, size, "the engine is shutting down");
            rc = EOS_ECLOSED;
        }
    }
    if (rc)
        goto out;
    put_le(code.p + 8, code.count, 4);
    rc = link_code(m, j, sel, code.p, code.len, msg, size);
    if (rc == 0 && cache && !(background && atomic_load(&stopping)))
        cache->put(cache->ctx, m->bytes, m->size, options, code.p, code.len);
out:
    if (tm)
        LLVMDisposeTargetMachine(tm);
    if (code_tm)
        LLVMDisposeTargetMachine(code_tm);
    if (quick_tm)
        LLVMDisposeTargetMachine(quick_tm);
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(features);
    LLVMDisposeMessage(triple);
    eos_free(code.p, code.cap);
    eos_free(options, options ? strlen(options) + 1 : 0);
    eos_free(sel, 0);
    if (rc) {
        jit_free(j);
        return rc;
    }
    j->compile_ns = now_ns() - t0;
    EOS_INFO(
        "compile", "%u functions%s %s in %.3f ms", j->count, partial ? " (those that ran)" : "",
        j->from_cache ? "linked from the code cache" : "compiled", (double)j->compile_ns / 1e6);
    *out = j;
    return 0;
}

/* ---- the background compiler ------------------------------------------------ */

typedef struct job {
    struct job *next;
    eos_wasm_module *m;
} job;

/* At most this many compile threads, whatever the core count. */
#define MAX_THREADS 64

static struct {
    pthread_mutex_t mu;
    pthread_cond_t work;
    pthread_cond_t done;
    job *head, *tail;
    int threads, idle;
    int live;    /* threads not yet returned */
    size_t jobs; /* queued or compiling */
    pthread_t tids[MAX_THREADS];
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER,
          .work = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER};

static void publish(eos_wasm_module *m, struct eos_wasm__jit *j)
{
    pthread_mutex_lock(&pool.mu);
    atomic_store_explicit(&m->jit, j, memory_order_release);
    atomic_store_explicit(&m->jit_state, j ? EOS_WASM_COMPILE_READY : EOS_WASM_COMPILE_FAILED,
                          memory_order_release);
    pthread_cond_broadcast(&pool.done);
    pthread_mutex_unlock(&pool.mu);
}

static void *worker(void *arg)
{
    (void)arg;
    /* Compilation runs below request work. */
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
    pthread_mutex_lock(&pool.mu);
    for (;;) {
        while (!pool.head && !atomic_load(&stopping)) {
            pool.idle++;
            pthread_cond_wait(&pool.work, &pool.mu);
            pool.idle--;
        }
        if (!pool.head)
            break;
        job *jb = pool.head;
        pool.head = jb->next;
        if (!pool.head)
            pool.tail = NULL;
        pthread_mutex_unlock(&pool.mu);
        char msg[256];
        struct eos_wasm__jit *j = NULL;
        if (!abandoned(jb->m)) {
            compile_module(jb->m, true, jb->m->jit_partial, &j, msg, sizeof(msg));
            publish(jb->m, j);
        }
        eos_wasm_module_free(jb->m);
        eos_free(jb, sizeof(*jb));
        /* LLVM's and the module's blocks, freed on this thread, would stay
         * in its arena. */
        malloc_trim(0);
        pthread_mutex_lock(&pool.mu);
        pool.jobs--;
        pthread_cond_broadcast(&pool.done);
    }
    pool.live--;
    pthread_cond_broadcast(&pool.done);
    pthread_mutex_unlock(&pool.mu);
    return NULL;
}

/* Queues m (a reference is taken) for the pool, which grows to one thread
 * per core at most. */
static int submit(eos_wasm_module *m)
{
    if (atomic_load(&stopping))
        return 0; /* shutting down: the module stays interpreted */
    job *jb = eos_calloc(1, sizeof(*jb));
    if (!jb)
        return EOS_ENOMEM;
    jb->m = eos_wasm_module_ref(m);
    atomic_store(&m->jit_state, EOS_WASM_COMPILE_PENDING);
    pthread_mutex_lock(&pool.mu);
    if (pool.tail)
        pool.tail->next = jb;
    else
        pool.head = jb;
    pool.tail = jb;
    pool.jobs++;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int most = cores > 0 ? (cores < MAX_THREADS ? (int)cores : MAX_THREADS) : 1;
    if (pool.idle == 0 && pool.threads < most && !atomic_load(&stopping)) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        /* LLVM's passes recurse: give them room. */
        pthread_attr_setstacksize(&attr, 8u << 20);
        if (pthread_create(&pool.tids[pool.threads], &attr, worker, NULL) == 0) {
            pool.threads++;
            pool.live++;
        }
        pthread_attr_destroy(&attr);
    }
    pthread_cond_signal(&pool.work);
    pthread_mutex_unlock(&pool.mu);
    return 0;
}

size_t eos_wasm_jit_shutdown_within(unsigned ms)
{
    pthread_mutex_lock(&pool.mu);
    atomic_store(&stopping, true);
    /* Queued jobs are dropped: their modules stay interpreted. */
    job *jb = pool.head;
    pool.head = pool.tail = NULL;
    pthread_cond_broadcast(&pool.work);
    int n = pool.threads;
    pool.threads = 0;
    pthread_mutex_unlock(&pool.mu);
    while (jb) {
        job *next = jb->next;
        publish(jb->m, NULL);
        eos_wasm_module_free(jb->m);
        eos_free(jb, sizeof(*jb));
        pthread_mutex_lock(&pool.mu);
        pool.jobs--;
        pthread_mutex_unlock(&pool.mu);
        jb = next;
    }
    /* Running compilations stop at their next chunk. A compile thread runs
     * at low priority, so on a busy machine that chunk may take long: past
     * the deadline the threads are left to the caller's exit. */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&pool.mu);
    while (pool.live > 0) {
        if (ms == UINT_MAX)
            pthread_cond_wait(&pool.done, &pool.mu);
        else if (pthread_cond_timedwait(&pool.done, &pool.mu, &until) == ETIMEDOUT)
            break;
    }
    size_t left = (size_t)pool.live;
    pthread_mutex_unlock(&pool.mu);
    for (int i = 0; i < n; i++) {
        if (left == 0)
            pthread_join(pool.tids[i], NULL);
        else
            pthread_detach(pool.tids[i]);
    }
    return left;
}

void eos_wasm_jit_shutdown(void)
{
    (void)eos_wasm_jit_shutdown_within(UINT_MAX);
}

size_t eos_wasm_jit_pending(void)
{
    pthread_mutex_lock(&pool.mu);
    size_t n = pool.jobs;
    pthread_mutex_unlock(&pool.mu);
    return n;
}

/* ---- hooks of the engine ---------------------------------------------------------- */

/* A language runtime (thousands of functions, a request entering a few
 * hundred): compiling it all at O2 would take many minutes and at LLVM's
 * fastest level gives slow code, so tier auto compiles the functions that
 * ran, at O2. The interpreter's lazy translation tells which have. */
static bool partial_wanted(const eos_wasm_module *m)
{
    uint32_t min = m->features.partial_compile_min ? m->features.partial_compile_min : LARGE_BYTES;
    if (!m->lazy || min == UINT32_MAX)
        return false;
    uint64_t total = 0;
    for (uint32_t k = 0; k < m->code_count; k++)
        total += m->codes[k].body_size;
    return total >= min;
}

/* One host call of a warming module; the call that ends the warm-up queues
 * the compilation of what has run. */
static void warm_up(eos_wasm_module *m)
{
    unsigned want = m->features.warm_up_calls ? m->features.warm_up_calls : WARM_UP_CALLS;
    unsigned n = atomic_fetch_add_explicit(&m->jit_warm_calls, 1, memory_order_relaxed) + 1;
    if (n == want && submit(m) != 0)
        EOS_WARN("compile", "out of memory queueing a compilation: the module stays interpreted");
}

int eos_wasm__jit_module_loaded(eos_wasm_module *m, eos_diag *diag)
{
    const char *why = NULL;
    if (m->features.bounds == EOS_WASM_BOUNDS_GUARD && m->features.tier != EOS_WASM_TIER_INTERP &&
        eos_wasm_bounds_guard_supported(&why) != 0)
        return eos_diag_set(diag, EOS_EUNSUPPORTED, "compile", -1,
                            "guard-page bounds checks are not available: %s", why);
    /* SIMD is translated; an instruction the translator does not know fails
     * the compilation, so the module stays interpreted under auto (state
     * failed) and tier compiled refuses it (EOS_EUNSUPPORTED). */
    switch (m->features.tier) {
    case EOS_WASM_TIER_INTERP:
        return 0;
    case EOS_WASM_TIER_AUTO:
        if (m->code_count == 0) {
            /* Nothing to compile: ready at once. */
            struct eos_wasm__jit *j = eos_calloc(1, sizeof(*j));
            if (!j)
                return eos_diag_set(diag, EOS_ENOMEM, "compile", -1, "out of memory");
            publish(m, j);
            return 0;
        }
        if (partial_wanted(m)) {
            /* Compiled once the warm-up has shown which functions run. */
            m->jit_partial = true;
            atomic_store(&m->jit_state, EOS_WASM_COMPILE_WARMING);
            return 0;
        }
        return submit(m) ? eos_diag_set(diag, EOS_ENOMEM, "compile", -1, "out of memory") : 0;
    default: {
        char msg[256] = "";
        struct eos_wasm__jit *j = NULL;
        int rc = compile_module(m, false, false, &j, msg, sizeof(msg));
        if (rc)
            return eos_diag_set(diag, rc, "compile", -1, "cannot compile the module: %s", msg);
        publish(m, j);
        return 0;
    }
    }
}

void eos_wasm__jit_module_free(eos_wasm_module *m)
{
    jit_free(atomic_load(&m->jit));
    atomic_store(&m->jit, NULL);
}

int eos_wasm__jit_exec(eos_wasm_store *s, eos_wasm_func *f, uint64_t *slots)
{
    eos_wasm_instance *inst = f->inst;
    if (inst->tier == EOS_WASM__RUN_UNSET) {
        eos_wasm_module *m = inst->module;
        struct eos_wasm__jit *j = atomic_load_explicit(&m->jit, memory_order_acquire);
        if (m->jit_partial && (!j || s->native_depth != 0)) {
            /* A partially compiled module: its instances (pooled ones too)
             * stay undecided, interpreted, until code is ready, and take it
             * at a call from the host, not inside one. */
            if (!j && s->native_depth == 0 &&
                atomic_load_explicit(&m->jit_state, memory_order_acquire) ==
                    EOS_WASM_COMPILE_WARMING)
                warm_up(m);
            return EOS_WASM__JIT_DECLINED;
        }
        inst->tier = EOS_WASM__RUN_INTERP;
        /* Code without bounds checks runs only on guarded memories (one
         * imported from an unguarded instance, or mapped when the address
         * space was short, keeps the instance interpreted). */
        for (uint32_t k = 0; j && j->guard && k < inst->module->memory_count; k++)
            if (!inst->memories[k]->guarded)
                j = NULL;
        if (j) {
            for (uint32_t k = 0; k < inst->module->code_count; k++) {
                inst->own_funcs[k].jit_fn = j->fns[k];
                inst->own_funcs[k].jit_entry = j->entries[k];
            }
            inst->tier = EOS_WASM__RUN_COMPILED;
        }
    }
    if (inst->tier != EOS_WASM__RUN_COMPILED || !f->jit_entry)
        return EOS_WASM__JIT_DECLINED;
    return eos_wasm__jit_run(s, f, slots);
}

/* ---- the public API ------------------------------------------------------------------ */

void eos_wasm_module_tier_info(const eos_wasm_module *m, eos_wasm_tier_info *out)
{
    memset(out, 0, sizeof(*out));
    out->requested = (eos_wasm_tier)m->features.tier;
    out->state = (eos_wasm_compile_state)atomic_load_explicit(&((eos_wasm_module *)m)->jit_state,
                                                              memory_order_acquire);
    struct eos_wasm__jit *j =
        atomic_load_explicit(&((eos_wasm_module *)m)->jit, memory_order_acquire);
    if (j) {
        out->compile_ns = j->compile_ns;
        out->code_size = j->code_size;
        out->func_count = j->count;
        out->from_cache = j->from_cache;
    }
}

int eos_wasm_module_wait_compiled(eos_wasm_module *m)
{
    pthread_mutex_lock(&pool.mu);
    while (atomic_load(&m->jit_state) == EOS_WASM_COMPILE_PENDING)
        pthread_cond_wait(&pool.done, &pool.mu);
    int st = atomic_load(&m->jit_state);
    pthread_mutex_unlock(&pool.mu);
    if (st == EOS_WASM_COMPILE_READY)
        return 0;
    if (st == EOS_WASM_COMPILE_WARMING)
        return EOS_EAGAIN;
    return st == EOS_WASM_COMPILE_FAILED ? EOS_EUNSUPPORTED : EOS_ENOTFOUND;
}
