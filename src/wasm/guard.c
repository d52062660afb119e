/* Guard-page bounds checks for compiled code: a 32-bit memory reserves more
 * address space than any access can reach (PROT_NONE past its size), compiled
 * loads and stores skip the explicit check, and the SIGSEGV/SIGBUS handler
 * turns a fault of compiled code inside a guarded reservation into the
 * interpreter's out-of-bounds trap. Other faults go to the previous handler. */
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define GUARD_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GUARD_SANITIZED 1
#endif

/* An address is a zero-extended i32 plus a static offset below 4 GiB plus at
 * most 8 bytes: everything a 32-bit memory's compiled code can reach lies in
 * the first 8 GiB + 64 KiB of its reservation. */
#define GUARD_SPAN ((8ull << 30) + (64u << 10))

/* The registries the signal handler reads: fixed arrays of ranges, claimed
 * and released with atomics only, so reading them needs no lock (a handler
 * may interrupt a thread holding any lock). lo is published last on insert
 * and cleared first on removal; a reader re-reads it to detect a slot that
 * changed under it. 16,384 memories of 8 GiB fill a 47-bit address space. */
#define MEM_SLOTS  16384u
#define CODE_SLOTS 8192u

typedef struct guard_slot {
    _Atomic uintptr_t lo; /* 0 free, 1 being filled, else the range's start */
    _Atomic uintptr_t hi;
    _Atomic(void *) owner; /* the store of a memory; the jit of a code range */
} guard_slot;

static guard_slot mem_slots[MEM_SLOTS];
static guard_slot code_slots[CODE_SLOTS];
static atomic_uint mem_hint, code_hint;

/* Released small reservations kept for the next instance: mapping 8 GiB and
 * taking a fault on every fresh page cost ten times a small instance's
 * instantiation. A spare's pages that were in use stay resident, zeroed. */
#define SPARE_MAX   32u
#define SPARE_SMALL (256u * 1024)
static pthread_mutex_t spare_mu = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *spares[SPARE_MAX];
static unsigned spare_count;

static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static struct sigaction old_segv, old_bus;
static int install_err; /* errno of a failed sigaction, 0 when installed */

static size_t host_page(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

static int slot_add(guard_slot *slots, unsigned n, atomic_uint *hint, uintptr_t lo, uintptr_t hi,
                    void *owner)
{
    unsigned start = atomic_load_explicit(hint, memory_order_relaxed);
    for (unsigned i = 0; i < n; i++) {
        guard_slot *s = &slots[(start + i) % n];
        uintptr_t free_ = 0;
        if (!atomic_compare_exchange_strong(&s->lo, &free_, 1))
            continue;
        atomic_store_explicit(&s->hi, hi, memory_order_relaxed);
        atomic_store_explicit(&s->owner, owner, memory_order_relaxed);
        atomic_store_explicit(&s->lo, lo, memory_order_release);
        atomic_store_explicit(hint, (start + i + 1) % n, memory_order_relaxed);
        return 0;
    }
    return EOS_ELIMIT;
}

static void slot_remove(guard_slot *slots, unsigned n, uintptr_t lo, void *owner)
{
    for (unsigned i = 0; i < n; i++) {
        guard_slot *s = &slots[i];
        if (atomic_load_explicit(&s->lo, memory_order_acquire) == lo &&
            atomic_load_explicit(&s->owner, memory_order_relaxed) == owner) {
            atomic_store_explicit(&s->lo, 0, memory_order_release);
            return;
        }
    }
}

/* Async-signal-safe: the owner of the range holding a, or NULL. */
static void *slot_find(guard_slot *slots, unsigned n, uintptr_t a)
{
    for (unsigned i = 0; i < n; i++) {
        guard_slot *s = &slots[i];
        uintptr_t lo = atomic_load_explicit(&s->lo, memory_order_acquire);
        if (lo <= 1 || a < lo)
            continue;
        uintptr_t hi = atomic_load_explicit(&s->hi, memory_order_relaxed);
        void *owner = atomic_load_explicit(&s->owner, memory_order_relaxed);
        if (a < hi && atomic_load_explicit(&s->lo, memory_order_acquire) == lo)
            return owner;
    }
    return NULL;
}

/* ---- the signal handler ------------------------------------------------------ */

/* Not ours: the previous disposition. A default or ignored one is restored
 * and the faulting instruction runs again, so the process dies of the signal
 * as it would have without us (a synchronous fault cannot be ignored). */
static void chain(int sig, siginfo_t *si, void *ctx)
{
    struct sigaction *old = sig == SIGBUS ? &old_bus : &old_segv;
    if (old->sa_flags & SA_SIGINFO) {
        old->sa_sigaction(sig, si, ctx);
        return;
    }
    if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
        old->sa_handler(sig);
        return;
    }
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
}

/* Resumes the faulting thread in eos_wasm__jit_guard_trap(store) as if the
 * faulting instruction had called it: the compiled frames below are
 * abandoned by its longjmp, as for any trap of compiled code. Returning
 * from the handler (instead of jumping out of it) lets the kernel restore
 * the signal mask. */
static bool redirect(ucontext_t *uc, void *store)
{
#if defined(__x86_64__)
    greg_t *r = uc->uc_mcontext.gregs;
    /* Below the red zone, 16-byte aligned, then a return address: the
     * stack as a call leaves it. */
    uintptr_t sp = ((uintptr_t)r[REG_RSP] - 256) & ~(uintptr_t)15;
    sp -= 8;
    *(uintptr_t *)sp = (uintptr_t)r[REG_RIP];
    r[REG_RSP] = (greg_t)sp;
    r[REG_RDI] = (greg_t)(uintptr_t)store;
    r[REG_RIP] = (greg_t)(uintptr_t)eos_wasm__jit_guard_trap;
    return true;
#elif defined(__aarch64__)
    uintptr_t sp = ((uintptr_t)uc->uc_mcontext.sp - 256) & ~(uintptr_t)15;
    uc->uc_mcontext.regs[30] = uc->uc_mcontext.pc;
    uc->uc_mcontext.regs[0] = (uintptr_t)store;
    uc->uc_mcontext.sp = sp;
    uc->uc_mcontext.pc = (uintptr_t)eos_wasm__jit_guard_trap;
    return true;
#else
    (void)uc;
    (void)store;
    return false;
#endif
}

static uintptr_t fault_pc(const ucontext_t *uc)
{
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.pc;
#else
    (void)uc;
    return 0;
#endif
}

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
    int saved = errno;
    ucontext_t *uc = ctx;
    /* Ours only when compiled code faulted inside a guarded reservation:
     * a host function or the engine faulting anywhere is a bug to report,
     * never a trap. */
    void *store = NULL;
    if (si && uc && slot_find(code_slots, CODE_SLOTS, fault_pc(uc)))
        store = slot_find(mem_slots, MEM_SLOTS, (uintptr_t)si->si_addr);
    if (store && redirect(uc, store)) {
        errno = saved;
        return;
    }
    errno = saved;
    chain(sig, si, ctx);
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    /* SA_ONSTACK: a thread with an alternate signal stack (installed for a
     * crash reporter, say) keeps using it; without one the handler runs on
     * the faulting stack, where compiled code always leaves a reserve (its
     * stack limit keeps NATIVE_RESERVE for host re-entry). */
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &old_segv) != 0 || sigaction(SIGBUS, &sa, &old_bus) != 0)
        install_err = errno ? errno : EINVAL;
}

/* ---- the public side ---------------------------------------------------------- */

int eos_wasm_bounds_guard_supported(const char **why)
{
    const char *reason = NULL;
#if defined(GUARD_SANITIZED)
    reason = "a sanitizer build owns SIGSEGV (AddressSanitizer or ThreadSanitizer)";
#elif !defined(__linux__) || !(defined(__x86_64__) || defined(__aarch64__))
    reason = "only on Linux for x86-64 and AArch64";
#else
    if (!eos_wasm_jit_available())
        reason = "this build has no compiled tier";
    else if (sizeof(void *) < 8)
        reason = "a 64-bit address space is needed";
#endif
    if (why)
        *why = reason;
    return reason ? EOS_EUNSUPPORTED : 0;
}

bool eos_wasm__guard_wanted(const eos_wasm_module *m)
{
    /* 64-bit and custom-page memories are checked explicitly (interpreted). */
    return m->features.bounds == EOS_WASM_BOUNDS_GUARD && !m->uses_mem64 &&
           m->features.tier != EOS_WASM_TIER_INTERP && eos_wasm_bounds_guard_supported(NULL) == 0;
}

int eos_wasm__guard_install(void)
{
    pthread_once(&install_once, install);
    return install_err ? EOS_EUNSUPPORTED : 0;
}

int eos_wasm__guard_map(eos_wasm_memory *m, uint64_t size)
{
    if (eos_wasm__guard_install() != 0 || size > (4ull << 30))
        return EOS_EUNSUPPORTED;
    void *p = NULL;
    pthread_mutex_lock(&spare_mu);
    if (spare_count)
        p = spares[--spare_count];
    pthread_mutex_unlock(&spare_mu);
    /* PROT_NONE and MAP_NORESERVE: the span costs address space only;
     * pages become accessible (and committed) as the memory grows. */
    if (!p)
        p = mmap(NULL, GUARD_SPAN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return EOS_ENOMEM;
    if ((size && mprotect(p, (size_t)size, PROT_READ | PROT_WRITE) != 0) ||
        slot_add(mem_slots, MEM_SLOTS, &mem_hint, (uintptr_t)p, (uintptr_t)p + GUARD_SPAN,
                 m->store) != 0) {
        munmap(p, GUARD_SPAN);
        return EOS_ENOMEM;
    }
    m->data = p;
    m->size = size;
    m->reserved = GUARD_SPAN;
    m->guarded = true;
    return 0;
}

void eos_wasm__guard_unmap(eos_wasm_memory *m)
{
    slot_remove(mem_slots, MEM_SLOTS, (uintptr_t)m->data, m->store);
    /* A small memory's reservation is zeroed in place (its pages stay
     * resident), closed again and kept for the next instance. */
    bool kept = false;
    if (m->size <= SPARE_SMALL) {
        pthread_mutex_lock(&spare_mu);
        if (spare_count < SPARE_MAX) {
            memset(m->data, 0, (size_t)m->size);
            if (!m->size || mprotect(m->data, (size_t)m->size, PROT_NONE) == 0) {
                spares[spare_count++] = m->data;
                kept = true;
            }
        }
        pthread_mutex_unlock(&spare_mu);
    }
    if (!kept)
        munmap(m->data, GUARD_SPAN);
    m->data = NULL;
    m->reserved = 0;
    m->guarded = false;
}

int eos_wasm__guard_resize(eos_wasm_memory *m, uint64_t new_size)
{
    if (new_size > (4ull << 30))
        return EOS_ELIMIT;
    size_t page = host_page();
    if (new_size > m->size) {
        if (mprotect(m->data + m->size, (size_t)(new_size - m->size), PROT_READ | PROT_WRITE) != 0)
            return EOS_ELIMIT;
    } else if (new_size < m->size) {
        /* Shrinking (a restore): the pages past the size go back to the
         * kernel and fault again. Sizes are whole wasm pages, so whole host
         * pages too. */
        uint64_t from = (new_size + page - 1) / page * page;
        if (from < m->size) {
            madvise(m->data + from, (size_t)(m->size - from), MADV_DONTNEED);
            if (mprotect(m->data + from, (size_t)(m->size - from), PROT_NONE) != 0)
                return EOS_EIO;
        }
    }
    m->size = new_size;
    return 0;
}

int eos_wasm__guard_code_add(uintptr_t lo, uintptr_t hi, void *owner)
{
    if (eos_wasm__guard_install() != 0)
        return EOS_EUNSUPPORTED;
    return slot_add(code_slots, CODE_SLOTS, &code_hint, lo, hi, owner);
}

void eos_wasm__guard_code_remove(void *owner)
{
    for (unsigned i = 0; i < CODE_SLOTS; i++) {
        guard_slot *g = &code_slots[i];
        if (atomic_load_explicit(&g->lo, memory_order_acquire) > 1 &&
            atomic_load_explicit(&g->owner, memory_order_relaxed) == owner)
            atomic_store_explicit(&g->lo, 0, memory_order_release);
    }
}

bool eos_wasm__guard_contains_code(uintptr_t pc)
{
    return slot_find(code_slots, CODE_SLOTS, pc) != NULL;
}
