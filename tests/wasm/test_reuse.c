/* Store snapshots for instance reuse: whatever a call changes (memory
 * contents and size, globals, tables, dropped segments) is back to the
 * snapshot after eos_wasm_store_restore, for mapped and heap memories. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "wasm_test.h"

static eos_wasm_store *s;
static eos_wasm_instance *inst;
static const eos_wasm_features features = {.tier = EOS_TEST_TIER};

static int call(const char *name, const int32_t *args, size_t n, int32_t *out)
{
    eos_wasm_func *f = eos_wasm_instance_func(inst, name);
    if (!f)
        return EOS_ENOTFOUND;
    eos_wasm_val a[2], r;
    for (size_t i = 0; i < n; i++)
        a[i] = (eos_wasm_val){.type = EOS_WASM_I32, .of.i32 = args[i]};
    size_t nr = eos_wasm_func_type(f)->result_count;
    int rc = eos_wasm_func_call(s, f, a, n, &r, nr, NULL);
    if (rc == 0 && nr && out)
        *out = r.of.i32;
    return rc;
}

static int32_t get(const char *name, int32_t arg, bool has_arg)
{
    int32_t out = -999;
    EOS_CHECK_INT(call(name, &arg, has_arg ? 1 : 0, &out), 0);
    return out;
}

/* The reuse module instantiated in a new store s (as inst), with the
 * store's snapshot taken; a store without one cannot be restored. */
static eos_wasm_module *snapshot_reuse_module(void)
{
    size_t size = 0;
    uint8_t *b = wt_read(EOS_TEST_REUSE_WASM, &size);
    eos_wasm_module *m = NULL;
    EOS_CHECK_INT(eos_wasm_module_new(b, size, &features, &m, NULL), 0);
    free(b);
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    EOS_CHECK_INT(eos_wasm_store_restore(s), EOS_EINVAL);
    EOS_CHECK_INT(eos_wasm_instantiate(s, m, NULL, 0, &inst, NULL), 0);
    EOS_CHECK_INT(eos_wasm_store_snapshot(s), 0);
    return m;
}

/* What a fresh instance shows. */
static void check_fresh(void)
{
    EOS_CHECK_INT(get("peek", 1000, true), 'f');
    EOS_CHECK_INT(get("peek", 1004, true), 'h');
    EOS_CHECK_INT(get("peek", 300000, true), 0);
    EOS_CHECK_INT(get("get_g", 0, false), 7);
    EOS_CHECK_INT(get("pages", 0, false), 8);
    EOS_CHECK_INT(get("call", 0, true), 1);
    EOS_CHECK_INT(get("call", 1, true), 2);
    EOS_CHECK_INT(get("tsize", 0, false), 4);
    EOS_CHECK_INT(call("init", NULL, 0, NULL), 0);
    EOS_CHECK_INT(get("peek", 2000, true), 'p');
}

/* Changes everything a request could. */
static void scribble(void)
{
    int32_t a[2] = {1000, 'X'};
    EOS_CHECK_INT(call("poke", a, 2, NULL), 0);
    a[0] = 300000;
    EOS_CHECK_INT(call("poke", a, 2, NULL), 0);
    a[0] = 1000;
    EOS_CHECK_INT(get("set_g", 99, true), -999);
    EOS_CHECK_INT(get("grow", 3, true), 8);
    a[0] = 11 * 65536 - 1;
    EOS_CHECK_INT(call("poke", a, 2, NULL), 0);
    EOS_CHECK_INT(get("clear", 0, true), -999);
    EOS_CHECK_INT(get("tgrow", 2, true), 4);
    EOS_CHECK_INT(call("drops", NULL, 0, NULL), 0);
    EOS_CHECK_INT(call("init", NULL, 0, NULL), EOS_TRAP_MEMORY_OOB);
    EOS_CHECK_INT(get("peek", 1000, true), 'X');
    EOS_CHECK_INT(get("get_g", 0, false), 99);
}

static void test_restore(void)
{
    eos_wasm_module *m = snapshot_reuse_module();
    for (int round = 0; round < 3; round++) {
        check_fresh();
        /* check_fresh itself wrote at 2000: the restore must undo it too. */
        scribble();
        EOS_CHECK_INT(eos_wasm_store_restore(s), 0);
        EOS_CHECK_INT(get("peek", 2000, true), 0);
        EOS_CHECK_INT(get("peek", 300000, true), 0);
        EOS_CHECK_INT(eos_wasm_memory_size(eos_wasm_instance_memory(inst, 0)), 8 * 65536);
    }
    eos_wasm_store_free(s);
    eos_wasm_module_free(m);
}

/* More written pages than a reset copies back (512): the rest go back to
 * the kernel, and every page reads as fresh either way, round after round. */
static void test_restore_many_pages(void)
{
    eos_wasm_module *m = snapshot_reuse_module();
    for (int round = 0; round < 3; round++) {
        EOS_CHECK_INT(get("peek", 1000, true), 'f');
        EOS_CHECK_INT(get("grow", 40, true), 8);
        for (int32_t at = 0; at < 48 * 65536; at += 4096) {
            int32_t a[2] = {at + 1000, 'X'};
            EOS_CHECK_INT(call("poke", a, 2, NULL), 0);
        }
        EOS_CHECK_INT(eos_wasm_store_restore(s), 0);
        EOS_CHECK_INT(get("pages", 0, false), 8);
        for (int32_t at = 4096; at < 8 * 65536; at += 4096)
            EOS_CHECK_INT(get("peek", at + 1000, true), 0);
        EOS_CHECK_INT(get("peek", 1000, true), 'f');
        EOS_CHECK_INT(get("grow", 40, true), 8);
        for (int32_t at = 8 * 65536; at < 48 * 65536; at += 4096)
            EOS_CHECK_INT(get("peek", at + 1000, true), 0);
        EOS_CHECK_INT(eos_wasm_store_restore(s), 0);
    }
    eos_wasm_store_free(s);
    eos_wasm_module_free(m);
}

/* Pages past the image that a request only read map the kernel's zero page:
 * a reset leaves them (they read as zero already), while a page read and
 * then written is put back, so the next growth shows zeros everywhere. */
static void test_restore_read_only_pages(void)
{
    eos_wasm_module *m = snapshot_reuse_module();
    for (int round = 0; round < 3; round++) {
        EOS_CHECK_INT(get("grow", 8, true), 8);
        for (int32_t at = 8 * 65536; at < 16 * 65536; at += 4096)
            EOS_CHECK_INT(get("peek", at + 8, true), 0);
        int32_t a[2] = {12 * 65536 + 8, 'W'};
        EOS_CHECK_INT(call("poke", a, 2, NULL), 0);
        EOS_CHECK_INT(get("peek", 12 * 65536 + 8, true), 'W');
        EOS_CHECK_INT(eos_wasm_store_restore(s), 0);
        EOS_CHECK_INT(get("pages", 0, false), 8);
        EOS_CHECK_INT(get("grow", 8, true), 8);
        EOS_CHECK_INT(get("peek", 12 * 65536 + 8, true), 0);
        EOS_CHECK_INT(eos_wasm_store_restore(s), 0);
    }
    eos_wasm_store_free(s);
    eos_wasm_module_free(m);
}

/* A restore copies back only the tables written since the snapshot: each
 * way of writing one without growing it (table.set, table.fill, table.copy,
 * table.init, the host's eos_wasm_table_set) must mark it, or the next
 * request would see the change. */
static void test_restore_table_writes(void)
{
    eos_wasm_module *m = snapshot_reuse_module();
    eos_wasm_extern tab;
    EOS_CHECK_INT(eos_wasm_instance_export(inst, "tab", &tab), 0);
    static const char *const writers[] = {"clear", "tfill", "tcopy", "tinit", "host", "none"};
    for (int round = 0; round < 2; round++) {
        for (size_t w = 0; w < sizeof writers / sizeof *writers; w++) {
            const char *how = writers[w];
            if (!strcmp(how, "host")) {
                eos_wasm_val null = {.type = EOS_WASM_FUNCREF};
                EOS_CHECK_INT(eos_wasm_table_set(tab.of.table, 0, null), 0);
                EOS_CHECK_INT(call("call", (int32_t[]){0}, 1, NULL), EOS_TRAP_UNINITIALIZED_ELEMENT);
            } else if (strcmp(how, "none")) {
                /* Each writer changes entry 0 (and the fill also 1). */
                EOS_CHECK_INT(call(how, (int32_t[]){0}, 1, NULL), 0);
                if (!strcmp(how, "clear"))
                    EOS_CHECK_INT(call("call", (int32_t[]){0}, 1, NULL), EOS_TRAP_UNINITIALIZED_ELEMENT);
                else
                    EOS_CHECK_INT(get("call", 0, true), 2);
            }
            EOS_CHECK_INT(eos_wasm_store_restore(s), 0);
            EOS_CHECK_INT(get("call", 0, true), 1);
            EOS_CHECK_INT(get("call", 1, true), 2);
            EOS_CHECK_INT(call("call", (int32_t[]){2}, 1, NULL), EOS_TRAP_UNINITIALIZED_ELEMENT);
            EOS_CHECK_INT(get("tsize", 0, false), 4);
        }
    }
    eos_wasm_store_free(s);
    eos_wasm_module_free(m);
}

/* A one-page memory lives in the heap: restored by copying. */
static void test_restore_small(void)
{
    eos_wasm_module *m = wt_module();
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    const char *target = "inner";
    EOS_CHECK_INT(wt_instantiate(s, m, &target, &inst, NULL), 0);
    int32_t a[2] = {64, 12345};
    EOS_CHECK_INT(call("store", a, 2, NULL), 0);
    EOS_CHECK_INT(eos_wasm_store_snapshot(s), 0);
    a[1] = 777;
    EOS_CHECK_INT(call("store", a, 2, NULL), 0);
    EOS_CHECK_INT(get("grow", 7, true), 1);
    eos_wasm_memory *mem = eos_wasm_instance_memory(inst, 0);
    EOS_CHECK_INT(eos_wasm_store_restore(s), 0);
    EOS_CHECK_INT(eos_wasm_memory_size(mem), 65536);
    uint32_t v = 0;
    memcpy(&v, eos_wasm_memory_data(mem) + 64, 4);
    EOS_CHECK_INT(v, 12345);
    eos_wasm_store_free(s);
    eos_wasm_module_free(m);
}

int main(void)
{
    EOS_RUN(test_restore);
    EOS_RUN(test_restore_many_pages);
    EOS_RUN(test_restore_read_only_pages);
    EOS_RUN(test_restore_table_writes);
    EOS_RUN(test_restore_small);
    return eos_test_finish();
}
