/* The compiled tier: LLVM (through its C API and ORC's LLJIT) turns a
 * validated module into native code, in chunks so memory stays bounded, on
 * the loading thread (tier compiled) or on a small pool of low-priority
 * background threads (tier auto). LLJIT writes code, then maps it
 * read-execute. Instances pick their tier on their first call. */
#include "internal.h"

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
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

/* Wasm body bytes per LLVM module: bounds the IR alive at once. */
#define CHUNK_BYTES (256u * 1024)
/* Past this many body bytes (a language runtime such as SpiderMonkey), the
 * full O2 pipeline would take many minutes: such modules get a quick one
 * (SSA, instruction combining, CFG clean-up) and LLVM's fast code generator. */
#define LARGE_BYTES (4u << 20)

struct eos_wasm__jit {
    LLVMOrcLLJITRef lljit;
    void **fns;     /* typed code of each defined function */
    void **entries; /* slots entries */
    uint64_t compile_ns;
    uint64_t code_size;
    uint32_t count;
};

static pthread_once_t llvm_once = PTHREAD_ONCE_INIT;

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
    if (j->lljit)
        LLVMOrcDisposeLLJIT(j->lljit);
    eos_free(j->fns, 0);
    eos_free(j->entries, 0);
    eos_free(j, sizeof(*j));
}

/* Translates, optimises (LLVM's O2 pipeline), compiles and links one chunk,
 * then looks up its functions (which frees its IR). */
static int compile_chunk(const eos_wasm_module *m, struct eos_wasm__jit *j, LLVMTargetMachineRef tm,
                         bool large, uint32_t first, uint32_t count, char *msg, size_t size)
{
    LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
    LLVMContextRef cx = LLVMOrcThreadSafeContextGetContext(tsc);
    LLVMModuleRef mod = LLVMModuleCreateWithNameInContext("wasm", cx);
    LLVMSetDataLayout(mod, LLVMOrcLLJITGetDataLayoutStr(j->lljit));
    LLVMSetTarget(mod, LLVMOrcLLJITGetTripleString(j->lljit));
    int rc = eos_wasm__jit_translate(m, cx, mod, first, count, j->fns);
    if (rc) {
        snprintf(msg, size, "out of memory translating functions");
        goto fail;
    }
    char *verr = NULL;
    if (LLVMVerifyModule(mod, LLVMReturnStatusAction, &verr)) {
        snprintf(msg, size, "internal error: invalid IR for functions %u..%u: %.160s", first,
                 first + count - 1, verr ? verr : "");
        LLVMDisposeMessage(verr);
        rc = EOS_EUNSUPPORTED;
        goto fail;
    }
    LLVMDisposeMessage(verr);
    LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
    LLVMErrorRef e = LLVMRunPasses(
        mod, large ? "function(mem2reg,instcombine,simplifycfg)" : "default<O2>", tm, po);
    LLVMDisposePassBuilderOptions(po);
    if (e) {
        rc = llvm_fail(e, msg, size);
        goto fail;
    }
    LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(mod, tsc);
    LLVMOrcDisposeThreadSafeContext(tsc);
    e = LLVMOrcLLJITAddLLVMIRModule(j->lljit, LLVMOrcLLJITGetMainJITDylib(j->lljit), tsm);
    if (e) {
        LLVMOrcDisposeThreadSafeModule(tsm);
        return llvm_fail(e, msg, size);
    }
    for (uint32_t k = first; k < first + count; k++) {
        char name[32];
        LLVMOrcExecutorAddress a = 0, b = 0;
        snprintf(name, sizeof(name), "f%u", k);
        e = LLVMOrcLLJITLookup(j->lljit, &a, name);
        if (!e) {
            snprintf(name, sizeof(name), "e%u", k);
            e = LLVMOrcLLJITLookup(j->lljit, &b, name);
        }
        if (e)
            return llvm_fail(e, msg, size);
        j->fns[k] = (void *)(uintptr_t)a;
        j->entries[k] = (void *)(uintptr_t)b;
    }
    return 0;
fail:
    LLVMDisposeModule(mod);
    LLVMOrcDisposeThreadSafeContext(tsc);
    return rc;
}

static int compile_module(const eos_wasm_module *m, struct eos_wasm__jit **out, char *msg,
                          size_t size)
{
    pthread_once(&llvm_once, llvm_init);
    uint64_t t0 = now_ns();
    *out = NULL;
    int rc = EOS_ENOMEM;
    LLVMTargetMachineRef tm = NULL;
    struct eos_wasm__jit *j = eos_calloc(1, sizeof(*j));
    if (!j)
        return EOS_ENOMEM;
    j->count = m->code_count;
    j->fns = eos_calloc(m->code_count + 1, sizeof(void *));
    j->entries = eos_calloc(m->code_count + 1, sizeof(void *));
    if (!j->fns || !j->entries) {
        snprintf(msg, size, "out of memory");
        goto out;
    }
    uint64_t total = 0;
    for (uint32_t k = 0; k < m->code_count; k++)
        total += m->codes[k].body_size;
    bool large = total > LARGE_BYTES;
    /* One target machine for the passes, one (given to LLJIT) for code. */
    char *triple = LLVMGetDefaultTargetTriple();
    LLVMTargetRef target;
    char *terr = NULL;
    if (LLVMGetTargetFromTriple(triple, &target, &terr)) {
        snprintf(msg, size, "no LLVM target for %s: %s", triple, terr ? terr : "");
        LLVMDisposeMessage(terr);
        LLVMDisposeMessage(triple);
        rc = EOS_EUNSUPPORTED;
        goto out;
    }
    char *cpu = LLVMGetHostCPUName(), *features = LLVMGetHostCPUFeatures();
    tm = LLVMCreateTargetMachine(target, triple, cpu, features, LLVMCodeGenLevelDefault,
                                 LLVMRelocDefault, LLVMCodeModelJITDefault);
    LLVMTargetMachineRef code_tm = LLVMCreateTargetMachine(
        target, triple, cpu, features, large ? LLVMCodeGenLevelNone : LLVMCodeGenLevelDefault,
        LLVMRelocDefault, LLVMCodeModelJITDefault);
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(features);
    LLVMDisposeMessage(triple);
    LLVMOrcLLJITBuilderRef builder = LLVMOrcCreateLLJITBuilder();
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(
        builder, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(code_tm));
    LLVMErrorRef e = LLVMOrcCreateLLJIT(&j->lljit, builder);
    if (e) {
        j->lljit = NULL;
        rc = llvm_fail(e, msg, size);
        goto out;
    }
    /* libm and the C library, for what LLVM lowers to library calls. */
    LLVMOrcDefinitionGeneratorRef gen;
    e = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
        &gen, LLVMOrcLLJITGetGlobalPrefix(j->lljit), NULL, NULL);
    if (e) {
        rc = llvm_fail(e, msg, size);
        goto out;
    }
    LLVMOrcJITDylibAddGenerator(LLVMOrcLLJITGetMainJITDylib(j->lljit), gen);
    rc = 0;
    for (uint32_t first = 0; first < m->code_count && rc == 0;) {
        if (abandoned(m)) {
            snprintf(msg, size, "the module was unloaded");
            rc = EOS_ENOTFOUND;
            break;
        }
        uint32_t count = 0;
        uint64_t bytes = 0;
        while (first + count < m->code_count && (count == 0 || bytes < CHUNK_BYTES)) {
            bytes += m->codes[first + count].body_size;
            count++;
        }
        rc = compile_chunk(m, j, tm, large, first, count, msg, size);
        j->code_size += bytes;
        first += count;
    }
out:
    if (tm)
        LLVMDisposeTargetMachine(tm);
    if (rc) {
        jit_free(j);
        return rc;
    }
    j->compile_ns = now_ns() - t0;
    *out = j;
    return 0;
}

/* ---- the background compiler ------------------------------------------------ */

typedef struct job {
    struct job *next;
    eos_wasm_module *m;
} job;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t work;
    pthread_cond_t done;
    job *head, *tail;
    int threads, idle;
    size_t jobs; /* queued or compiling */
} pool = {PTHREAD_MUTEX_INITIALIZER,
          PTHREAD_COND_INITIALIZER,
          PTHREAD_COND_INITIALIZER,
          NULL,
          NULL,
          0,
          0,
          0};

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
        while (!pool.head) {
            pool.idle++;
            pthread_cond_wait(&pool.work, &pool.mu);
            pool.idle--;
        }
        job *jb = pool.head;
        pool.head = jb->next;
        if (!pool.head)
            pool.tail = NULL;
        pthread_mutex_unlock(&pool.mu);
        char msg[256];
        struct eos_wasm__jit *j = NULL;
        if (!abandoned(jb->m)) {
            compile_module(jb->m, &j, msg, sizeof(msg));
            publish(jb->m, j);
        }
        eos_wasm_module_free(jb->m);
        eos_free(jb, sizeof(*jb));
        /* LLVM's and the module's blocks, freed on this thread, would stay
         * in its arena. */
        malloc_trim(0);
        pthread_mutex_lock(&pool.mu);
        pool.jobs--;
    }
    return NULL;
}

/* Queues m (a reference is taken) for the pool, which grows to one thread
 * per core at most. */
static int submit(eos_wasm_module *m)
{
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
    if (pool.idle == 0 && pool.threads < (cores > 0 ? cores : 1)) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        /* LLVM's passes recurse: give them room. */
        pthread_attr_setstacksize(&attr, 8u << 20);
        if (pthread_create(&t, &attr, worker, NULL) == 0)
            pool.threads++;
        pthread_attr_destroy(&attr);
    }
    pthread_cond_signal(&pool.work);
    pthread_mutex_unlock(&pool.mu);
    return 0;
}

size_t eos_wasm_jit_pending(void)
{
    pthread_mutex_lock(&pool.mu);
    size_t n = pool.jobs;
    pthread_mutex_unlock(&pool.mu);
    return n;
}

/* ---- hooks of the engine ---------------------------------------------------------- */

int eos_wasm__jit_module_loaded(eos_wasm_module *m, eos_diag *diag)
{
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
        return submit(m) ? eos_diag_set(diag, EOS_ENOMEM, "compile", -1, "out of memory") : 0;
    default: {
        char msg[256] = "";
        struct eos_wasm__jit *j = NULL;
        int rc = compile_module(m, &j, msg, sizeof(msg));
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
        struct eos_wasm__jit *j = atomic_load_explicit(&inst->module->jit, memory_order_acquire);
        inst->tier = EOS_WASM__RUN_INTERP;
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
    return st == EOS_WASM_COMPILE_FAILED ? EOS_EUNSUPPORTED : EOS_ENOTFOUND;
}
