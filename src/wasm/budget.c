/* The time budget of a store: fuel handed to the interpreter one slice at a
 * time, and at the end of each slice a check of the deadline and of an
 * interruption requested from another thread. The dispatch loop only counts
 * down, as it does for fuel alone. */
#include "internal.h"

#include <time.h>

/* Units per slice: with a unit per loop iteration or call, a slice is well
 * under a millisecond of interpretation, and the clock read at its end
 * (a vDSO call, or an exit from an SGX enclave) is amortised over it. */
#define SLICE 65536

void eos_wasm__fuel_fill(eos_wasm_store *s, int64_t total)
{
    s->fuel = total < SLICE ? total : SLICE;
    s->fuel_bank = total - s->fuel;
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

int eos_wasm__fuel_refill(eos_wasm_store *s)
{
    int64_t total = s->fuel + s->fuel_bank;
    if (total < 0) {
        s->fuel = s->fuel_bank = 0;
        eos_wasm__trap(s, EOS_TRAP_OUT_OF_FUEL, "out of fuel");
        return EOS_TRAP_OUT_OF_FUEL;
    }
    if (atomic_load_explicit(&s->interrupted, memory_order_relaxed)) {
        eos_wasm__trap(s, EOS_TRAP_DEADLINE, "interrupted: the time budget was withdrawn");
        return EOS_TRAP_DEADLINE;
    }
    if (s->deadline_ns && now_ns() >= s->deadline_ns) {
        eos_wasm__trap(s, EOS_TRAP_DEADLINE, "time budget exceeded");
        return EOS_TRAP_DEADLINE;
    }
    eos_wasm__fuel_fill(s, total);
    return 0;
}

void eos_wasm_store_set_deadline(eos_wasm_store *s, uint64_t deadline_ns)
{
    s->deadline_ns = deadline_ns;
    atomic_store_explicit(&s->interrupted, false, memory_order_relaxed);
}

void eos_wasm_store_set_time_budget(eos_wasm_store *s, uint64_t budget_ns)
{
    eos_wasm_store_set_deadline(s, budget_ns ? now_ns() + budget_ns : 0);
}

void eos_wasm_store_interrupt(eos_wasm_store *s)
{
    atomic_store_explicit(&s->interrupted, true, memory_order_relaxed);
}
