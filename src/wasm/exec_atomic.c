/* The interpreter's part of the threads proposal: atomic loads, stores and
 * read-modify-writes, fences, memory.atomic.wait32/64 and notify. Accesses go
 * through the compiler's __atomic builtins (sequentially consistent, as wasm
 * atomics are), so they stay correct once a memory is shared between threads
 * running at once. Called from exec.c for EOS_WASM_OP_ATOMIC.
 *
 * Waiting: a store runs on one thread and no other thread can reach a wasm
 * waiter, so no waiter is ever queued. A wait whose value differs returns 1
 * ("not-equal"); one with a finite timeout sleeps it out, in slices that
 * keep the store's deadline and interruption in force, and returns 2
 * ("timed-out"); one with no timeout could never be woken and traps rather
 * than hang. notify therefore wakes nobody and returns 0. */
#include "internal.h"

#include <errno.h>
#include <time.h>

/* One read-modify-write of width T at p: group 2..8 is add, sub, and, or,
 * xor, xchg, cmpxchg. Returns the old value. */
#define RMW(T)                                                                                     \
    static uint64_t rmw_##T(void *p, uint32_t group, uint64_t a, uint64_t b)                       \
    {                                                                                              \
        T *q = p, v = (T)a;                                                                        \
        switch (group) {                                                                           \
        case 2:                                                                                    \
            return __atomic_fetch_add(q, v, __ATOMIC_SEQ_CST);                                     \
        case 3:                                                                                    \
            return __atomic_fetch_sub(q, v, __ATOMIC_SEQ_CST);                                     \
        case 4:                                                                                    \
            return __atomic_fetch_and(q, v, __ATOMIC_SEQ_CST);                                     \
        case 5:                                                                                    \
            return __atomic_fetch_or(q, v, __ATOMIC_SEQ_CST);                                      \
        case 6:                                                                                    \
            return __atomic_fetch_xor(q, v, __ATOMIC_SEQ_CST);                                     \
        case 7:                                                                                    \
            return __atomic_exchange_n(q, v, __ATOMIC_SEQ_CST);                                    \
        default: {                                                                                 \
            /* The expected value is wrapped to the access width first. */                         \
            T expected = v;                                                                        \
            __atomic_compare_exchange_n(q, &expected, (T)b, false, __ATOMIC_SEQ_CST,               \
                                        __ATOMIC_SEQ_CST);                                         \
            return expected;                                                                       \
        }                                                                                          \
        }                                                                                          \
    }
RMW(uint8_t)
RMW(uint16_t)
RMW(uint32_t)
RMW(uint64_t)

static uint64_t load(void *p, unsigned log2)
{
    switch (log2) {
    case 0:
        return __atomic_load_n((uint8_t *)p, __ATOMIC_SEQ_CST);
    case 1:
        return __atomic_load_n((uint16_t *)p, __ATOMIC_SEQ_CST);
    case 2:
        return __atomic_load_n((uint32_t *)p, __ATOMIC_SEQ_CST);
    default:
        return __atomic_load_n((uint64_t *)p, __ATOMIC_SEQ_CST);
    }
}

static void store(void *p, unsigned log2, uint64_t x)
{
    switch (log2) {
    case 0:
        __atomic_store_n((uint8_t *)p, (uint8_t)x, __ATOMIC_SEQ_CST);
        break;
    case 1:
        __atomic_store_n((uint16_t *)p, (uint16_t)x, __ATOMIC_SEQ_CST);
        break;
    case 2:
        __atomic_store_n((uint32_t *)p, (uint32_t)x, __ATOMIC_SEQ_CST);
        break;
    default:
        __atomic_store_n((uint64_t *)p, x, __ATOMIC_SEQ_CST);
        break;
    }
}

static uint64_t rmw(void *p, unsigned log2, uint32_t group, uint64_t a, uint64_t b)
{
    switch (log2) {
    case 0:
        return rmw_uint8_t(p, group, a, b);
    case 1:
        return rmw_uint16_t(p, group, a, b);
    case 2:
        return rmw_uint32_t(p, group, a, b);
    default:
        return rmw_uint64_t(p, group, a, b);
    }
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Sleeps ns nanoseconds at most 10 ms at a time, so that a deadline or an
 * interruption of the store stops a long wait; 0 or EOS_TRAP_DEADLINE. */
static int sleep_out(eos_wasm_store *s, uint64_t ns)
{
    const uint64_t slice = 10u * 1000u * 1000u;
    uint64_t end = now_ns() + ns;
    for (;;) {
        if (atomic_load_explicit(&s->interrupted, memory_order_relaxed))
            return eos_wasm__trap(s, EOS_TRAP_DEADLINE,
                                  "interrupted: the time budget was withdrawn");
        uint64_t t = now_ns();
        if (s->deadline_ns && t >= s->deadline_ns)
            return eos_wasm__trap(s, EOS_TRAP_DEADLINE, "time budget exceeded");
        if (t >= end)
            return 0;
        uint64_t d = end - t < slice ? end - t : slice;
        struct timespec ts = {(time_t)(d / 1000000000u), (long)(d % 1000000000u)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
    }
}

uint64_t *eos_wasm__atomic_exec(eos_wasm_store *s, eos_wasm_instance *inst, const uint32_t *ip,
                                uint64_t *sp, int *trap, const char **msg)
{
    uint32_t sub = ip[1];
    if (sub == 0x03) {
#ifdef __SANITIZE_THREAD__
        /* ThreadSanitizer does not model fences: a sequentially consistent
         * read-modify-write orders as a full fence does, and it sees that. */
        static int fence_word;
        __atomic_fetch_add(&fence_word, 0, __ATOMIC_SEQ_CST);
#else
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
        return sp;
    }
    uint8_t type, log2;
    eos_wasm__atomic_shape(sub, &type, &log2);
    uint32_t group = sub >= 0x10 ? (sub - 0x10) / 7 : 0;
    /* Operands: notify 2, wait 3, load 1, store 2, rmw 2, cmpxchg 3. */
    unsigned nargs = sub == 0x00 ? 2 : sub <= 0x02 ? 3 : group == 0 ? 1 : group == 8 ? 3 : 2;
    uint64_t *a = sp - nargs;
    eos_wasm_memory *m = inst->memories[ip[2]];
    uint64_t n = 1u << log2;
    uint64_t ea = (uint64_t)(uint32_t)a[0] + ip[3];
    if (ea + n > m->size) {
        *trap = EOS_TRAP_MEMORY_OOB;
        *msg = "out of bounds memory access";
        return NULL;
    }
    if (ea & (n - 1)) {
        *trap = EOS_TRAP_UNALIGNED_ATOMIC;
        *msg = "unaligned atomic";
        return NULL;
    }
    void *p = m->data + ea;
    uint64_t mask = type == EOS_WASM_I32 ? UINT32_MAX : UINT64_MAX;
    uint64_t r = 0;
    if (sub == 0x00) {
        r = 0; /* no waiter can exist: see the top of this file */
    } else if (sub <= 0x02) {
        if (!m->type.shared) {
            *trap = EOS_TRAP_ATOMIC_WAIT;
            *msg = "expected shared memory: atomic wait on an unshared memory";
            return NULL;
        }
        int64_t timeout = (int64_t)a[2];
        if ((load(p, log2) & mask) != (a[1] & mask)) {
            r = 1;
        } else if (timeout < 0) {
            *trap = EOS_TRAP_ATOMIC_WAIT;
            *msg = "atomic wait without a timeout and no thread to notify it: it would never "
                   "return";
            return NULL;
        } else {
            int rc = sleep_out(s, (uint64_t)timeout);
            if (rc) {
                *trap = rc;
                *msg = s->trap_msg;
                return NULL;
            }
            r = 2;
        }
    } else if (group == 0) {
        r = load(p, log2);
    } else if (group == 1) {
        store(p, log2, a[1]);
        return a;
    } else {
        r = rmw(p, log2, group, a[1], group == 8 ? a[2] : 0);
    }
    a[0] = r & mask;
    return a + 1;
}
