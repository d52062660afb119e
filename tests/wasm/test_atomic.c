/* Tests of the threads proposal's atomics and of wide arithmetic through the
 * public API: a misaligned atomic access traps (and an out-of-bounds one
 * still reports the bounds), waits on a single-threaded store return or trap
 * instead of blocking, and 128-bit results come back as two i64. The module
 * is written out in bytes so the test needs no text-format tool that knows
 * these proposals. */
#include <string.h>

#include "harness.h"
#include "eos/wasm.h"

/* (module (memory 1 1 shared)
 *   (func (export "load") (param i32) (result i32) (i32.atomic.load (local.get 0)))
 *   (func (export "wait") (param i32 i32 i64) (result i32)
 *     (memory.atomic.wait32 (local.get 0) (local.get 1) (local.get 2)))
 *   (func (export "add128") (param i64 i64 i64 i64) (result i64 i64)
 *     (i64.add128 (local.get 0) (local.get 1) (local.get 2) (local.get 3)))) */
/* clang-format off */
static const uint8_t module_bytes[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    /* types */
    0x01, 0x16, 0x03, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x03, 0x7f, 0x7f, 0x7e, 0x01, 0x7f,
    0x60, 0x04, 0x7e, 0x7e, 0x7e, 0x7e, 0x02, 0x7e, 0x7e,
    /* functions */
    0x03, 0x04, 0x03, 0x00, 0x01, 0x02,
    /* memory: flags 3 (shared, with a maximum), 1..1 pages */
    0x05, 0x04, 0x01, 0x03, 0x01, 0x01,
    /* exports */
    0x07, 0x18, 0x03, 0x04, 'l', 'o', 'a', 'd', 0x00, 0x00, 0x04, 'w', 'a', 'i', 't', 0x00, 0x01,
    0x06, 'a', 'd', 'd', '1', '2', '8', 0x00, 0x02,
    /* code */
    0x0a, 0x24, 0x03,
    0x08, 0x00, 0x20, 0x00, 0xfe, 0x10, 0x02, 0x00, 0x0b,
    0x0c, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfe, 0x01, 0x02, 0x00, 0x0b,
    0x0c, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0x20, 0x03, 0xfc, 0x13, 0x0b,
};
/* clang-format on */
/* Offset of the memory's limits flags in module_bytes. */
#define FLAGS_AT 41

static eos_wasm_val i32v(int32_t x)
{
    return (eos_wasm_val){.type = EOS_WASM_I32, .of.i32 = x};
}

static eos_wasm_val i64v(int64_t x)
{
    return (eos_wasm_val){.type = EOS_WASM_I64, .of.i64 = x};
}

static int load_at(eos_wasm_store *s, eos_wasm_instance *inst, int32_t addr, int32_t *out)
{
    eos_wasm_val a = i32v(addr), r;
    int rc = eos_wasm_func_call(s, eos_wasm_instance_func(inst, "load"), &a, 1, &r, 1, NULL);
    *out = r.of.i32;
    return rc;
}

static int wait_at(eos_wasm_store *s, eos_wasm_instance *inst, int32_t addr, int32_t expected,
                   int64_t timeout, int32_t *out)
{
    eos_wasm_val a[3] = {i32v(addr), i32v(expected), i64v(timeout)}, r = {0};
    int rc = eos_wasm_func_call(s, eos_wasm_instance_func(inst, "wait"), a, 3, &r, 1, NULL);
    *out = r.of.i32;
    return rc;
}

static void run_on(uint8_t tier)
{
    eos_wasm_features f = {.tier = tier};
    eos_wasm_module *m = NULL;
    eos_diag d;
    eos_diag_init(&d);
    int rc = eos_wasm_module_new(module_bytes, sizeof(module_bytes), &f, &m, &d);
    if (tier != EOS_WASM_TIER_INTERP && rc == EOS_EUNSUPPORTED)
        return; /* a build without the compiled tier */
    EOS_CHECK_INT(rc, 0);
    eos_wasm_store *s;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    eos_wasm_instance *inst;
    EOS_CHECK_INT(eos_wasm_instantiate(s, m, NULL, 0, &inst, NULL), 0);
    int32_t r = -1;

    uint32_t word = 0x01020304;
    memcpy(eos_wasm_memory_data(eos_wasm_instance_memory(inst, 0)) + 8, &word, 4);
    EOS_CHECK_INT(load_at(s, inst, 8, &r), 0);
    EOS_CHECK_INT(r, 0x01020304);
    /* Misaligned: the trap names it; out of bounds wins over misalignment. */
    EOS_CHECK_INT(load_at(s, inst, 9, &r), EOS_TRAP_UNALIGNED_ATOMIC);
    EOS_CHECK_INT(load_at(s, inst, 65534, &r), EOS_TRAP_MEMORY_OOB);
    EOS_CHECK_INT(load_at(s, inst, 65532, &r), 0);

    /* Waits: another value, a timeout, and no timeout with nobody to wake. */
    EOS_CHECK_INT(wait_at(s, inst, 8, 7, -1, &r), 0);
    EOS_CHECK_INT(r, 1);
    EOS_CHECK_INT(wait_at(s, inst, 8, 0x01020304, 1000, &r), 0);
    EOS_CHECK_INT(r, 2);
    EOS_CHECK_INT(wait_at(s, inst, 8, 0x01020304, -1, &r), EOS_TRAP_ATOMIC_WAIT);
    EOS_CHECK_INT(wait_at(s, inst, 10, 0, 0, &r), EOS_TRAP_UNALIGNED_ATOMIC);
    /* A long timeout still ends at the store's deadline. */
    eos_wasm_store_set_time_budget(s, 20u * 1000u * 1000u);
    EOS_CHECK_INT(wait_at(s, inst, 8, 0x01020304, INT64_MAX, &r), EOS_TRAP_DEADLINE);
    eos_wasm_store_set_deadline(s, 0);

    /* (2^64 - 1) + 1 carries into the high half. */
    eos_wasm_val a[4] = {i64v(-1), i64v(0), i64v(1), i64v(0)}, w[2];
    EOS_CHECK_INT(eos_wasm_func_call(s, eos_wasm_instance_func(inst, "add128"), a, 4, w, 2, NULL),
                  0);
    EOS_CHECK_INT(w[0].of.i64, 0);
    EOS_CHECK_INT(w[1].of.i64, 1);

    eos_wasm_store_free(s);
    eos_wasm_module_free(m);
}

static void test_atomics_interp(void)
{
    run_on(EOS_WASM_TIER_INTERP);
}

/* The same through the compiled tier: auto (interpreted at first) and
 * compiled (native atomics; notify and wait through the runtime). */
static void test_atomics_other_tiers(void)
{
    run_on(EOS_WASM_TIER_AUTO);
    run_on(EOS_WASM_TIER_COMPILED);
}

/* wait on an unshared memory traps; sharing is part of the memory type. */
static void test_unshared(void)
{
    uint8_t b[sizeof(module_bytes)];
    memcpy(b, module_bytes, sizeof(b));
    EOS_CHECK_INT(b[FLAGS_AT], 0x03);
    b[FLAGS_AT] = 0x01;
    eos_wasm_module *m = NULL;
    EOS_CHECK_INT(eos_wasm_module_new(b, sizeof(b), NULL, &m, NULL), 0);
    eos_wasm_store *s;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    eos_wasm_instance *inst;
    EOS_CHECK_INT(eos_wasm_instantiate(s, m, NULL, 0, &inst, NULL), 0);
    int32_t r;
    EOS_CHECK_INT(wait_at(s, inst, 0, 0, 0, &r), EOS_TRAP_ATOMIC_WAIT);
    EOS_CHECK_INT(load_at(s, inst, 1, &r), EOS_TRAP_UNALIGNED_ATOMIC);
    EOS_CHECK(!eos_wasm_memory_type(eos_wasm_instance_memory(inst, 0)).shared);

    /* A shared memory needs a maximum, in a module and from the host. */
    b[FLAGS_AT] = 0x02;
    eos_wasm_module *bad = NULL;
    EOS_CHECK_INT(eos_wasm_module_new(b, sizeof(b), NULL, &bad, NULL), EOS_EINVALID);
    eos_wasm_memorytype mt = {.limits = {.min = 1}, .shared = true};
    eos_wasm_memory *mem = NULL;
    EOS_CHECK_INT(eos_wasm_memory_new(s, &mt, &mem), EOS_EINVAL);
    eos_wasm_store_free(s);
    eos_wasm_module_free(m);
}

int main(void)
{
    EOS_RUN(test_atomics_interp);
    EOS_RUN(test_atomics_other_tiers);
    EOS_RUN(test_unshared);
    return eos_test_finish();
}
