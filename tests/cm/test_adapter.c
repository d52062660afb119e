/* A C component that uses WASI through libc, so it carries wit-component's
 * preview1 adapter module: instantiated against host interfaces written the
 * way the WASI layer writes them (WIT text plus a table of C functions), it
 * prints to stdout and stderr and reads its environment and the clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eos/cm.h"
#include "cm_testutil.h"
#include "harness.h"

/* Streams: rep 1 = stdout, 2 = stderr, 3 = stdin. */
static char out_buf[2][256];
static size_t out_len[2];
static int dropped;

static int get_stdout(eos_cm_call *c, void *ud, const eos_cm_val *a, eos_cm_val *r)
{
    r[0].of.handle = 1;
    return 0;
}

static int get_stderr(eos_cm_call *c, void *ud, const eos_cm_val *a, eos_cm_val *r)
{
    r[0].of.handle = 2;
    return 0;
}

static int get_stdin(eos_cm_call *c, void *ud, const eos_cm_val *a, eos_cm_val *r)
{
    r[0].of.handle = 3;
    return 0;
}

static int write_flush(eos_cm_call *c, void *ud, const eos_cm_val *a, eos_cm_val *r)
{
    uint32_t s = a[0].of.handle;
    if (s < 1 || s > 2)
        return eos_cm_call_trap(c, EOS_TRAP_HOST, "write to stream %u", s);
    size_t n = a[1].of.list.len;
    if (out_len[s - 1] + n < sizeof(out_buf[0])) {
        memcpy(out_buf[s - 1] + out_len[s - 1], a[1].of.list.bytes, n);
        out_len[s - 1] += n;
    }
    r[0].of.var.index = 0; /* ok(()) */
    return 0;
}

static int check_write(eos_cm_call *c, void *ud, const eos_cm_val *a, eos_cm_val *r)
{
    static eos_cm_val room = {.of.u = 4096};
    r[0].of.var.index = 0;
    r[0].of.var.payload = &room;
    return 0;
}

static int ok_unit(eos_cm_call *c, void *ud, const eos_cm_val *a, eos_cm_val *r)
{
    r[0].of.var.index = 0;
    return 0;
}

static int environment(eos_cm_call *c, void *ud, const eos_cm_val *a, eos_cm_val *r)
{
    eos_cm_val *pair = eos_cm_call_alloc(c, 3 * sizeof(eos_cm_val));
    if (!pair)
        return EOS_ENOMEM;
    pair[1].of.str.ptr = "APP_NAME", pair[1].of.str.len = 8;
    pair[2].of.str.ptr = "demo", pair[2].of.str.len = 4;
    pair[0].of.list.items = pair + 1, pair[0].of.list.len = 2;
    r[0].of.list.items = pair, r[0].of.list.len = 1;
    return 0;
}

static int empty_list(eos_cm_call *c, void *ud, const eos_cm_val *a, eos_cm_val *r)
{
    r[0].of.list.len = 0;
    return 0;
}

static int none(eos_cm_call *c, void *ud, const eos_cm_val *a, eos_cm_val *r)
{
    r[0].of.var.index = 0;
    return 0;
}

static int wall_now(eos_cm_call *c, void *ud, const eos_cm_val *a, eos_cm_val *r)
{
    eos_cm_val *f = eos_cm_call_alloc(c, 2 * sizeof(eos_cm_val));
    if (!f)
        return EOS_ENOMEM;
    f[0].of.u = 1800000000, f[1].of.u = 5;
    r[0].of.list.items = f, r[0].of.list.len = 2;
    return 0;
}

static int mono_now(eos_cm_call *c, void *ud, const eos_cm_val *a, eos_cm_val *r)
{
    r[0].of.u = 42;
    return 0;
}

static int exit_fn(eos_cm_call *c, void *ud, const eos_cm_val *a, eos_cm_val *r)
{
    return eos_cm_call_trap(c, EOS_TRAP_EXIT, "exit(%s)", a[0].of.var.index ? "err" : "ok");
}

static char unexpected[128];

static int unimplemented(eos_cm_call *c, void *ud, const eos_cm_val *a, eos_cm_val *r)
{
    snprintf(unexpected, sizeof(unexpected), "%s", (const char *)ud);
    return eos_cm_call_trap(c, EOS_TRAP_HOST, "%s is not implemented here", (const char *)ud);
}

static void stream_dtor(void *ud, void *data, uint32_t rep)
{
    dropped++;
}

typedef struct impl {
    const char *iface, *func;
    eos_cm_host_fn fn;
} impl;

static const impl impls[] = {
    {"wasi:cli/stdout", "get-stdout", get_stdout},
    {"wasi:cli/stderr", "get-stderr", get_stderr},
    {"wasi:cli/stdin", "get-stdin", get_stdin},
    {"wasi:cli/environment", "get-environment", environment},
    {"wasi:cli/environment", "get-arguments", empty_list},
    {"wasi:cli/environment", "initial-cwd", none},
    {"wasi:cli/exit", "exit", exit_fn},
    {"wasi:cli/terminal-stdin", "get-terminal-stdin", none},
    {"wasi:cli/terminal-stdout", "get-terminal-stdout", none},
    {"wasi:cli/terminal-stderr", "get-terminal-stderr", none},
    {"wasi:filesystem/preopens", "get-directories", empty_list},
    {"wasi:io/streams", "[method]output-stream.blocking-write-and-flush", write_flush},
    {"wasi:io/streams", "[method]output-stream.write", write_flush},
    {"wasi:io/streams", "[method]output-stream.check-write", check_write},
    {"wasi:io/streams", "[method]output-stream.blocking-flush", ok_unit},
    {"wasi:clocks/wall-clock", "now", wall_now},
    {"wasi:clocks/monotonic-clock", "now", mono_now},
};

/* Interfaces in the order their `use`s need, from jco's WASI 0.2.12 WIT. */
static const char *order[][2] = {
    {"io", "error"},
    {"io", "poll"},
    {"io", "streams"},
    {"clocks", "monotonic-clock"},
    {"clocks", "wall-clock"},
    {"random", "random"},
    {"random", "insecure"},
    {"random", "insecure-seed"},
    {"filesystem", "types"},
    {"filesystem", "preopens"},
    {"cli", "environment"},
    {"cli", "exit"},
    {"cli", "stdin"},
    {"cli", "stdout"},
    {"cli", "stderr"},
    {"cli", "terminal-input"},
    {"cli", "terminal-output"},
    {"cli", "terminal-stdin"},
    {"cli", "terminal-stdout"},
    {"cli", "terminal-stderr"},
};

static int define_wasi(eos_cm_host *h, const eos_cm_component *c)
{
    for (size_t o = 0; o < EOS_ARRAY_LEN(order); o++) {
        char path[512], iface[128], full[160];
        size_t size;
        snprintf(path, sizeof(path), "%s/wasi-%s/package.wit", EOS_WASI_WIT_DIR, order[o][0]);
        snprintf(iface, sizeof(iface), "wasi:%s/%s", order[o][0], order[o][1]);
        snprintf(full, sizeof(full), "%s@0.2.12", iface);
        char *text = (char *)cmt_read_file(path, &size);
        if (!text)
            return EOS_ENOTFOUND;
        /* Every function the component imports from this interface: the
         * implemented ones, and a trap for the rest. */
        eos_cm_host_func funcs[64];
        size_t nf = 0;
        for (size_t i = 0; i < eos_cm_component_import_count(c); i++) {
            eos_cm_item_desc im, m;
            eos_cm_component_import(c, i, &im);
            if (strncmp(im.name, iface, strlen(iface)) != 0 || im.name[strlen(iface)] != '@')
                continue;
            for (size_t k = 0; eos_cm_component_import_member(c, i, k, &m) == 0 && nf < 64; k++) {
                if (m.kind != EOS_CM_ITEM_FUNC)
                    continue;
                funcs[nf] = (eos_cm_host_func){m.name, NULL, unimplemented};
                for (size_t j = 0; j < EOS_ARRAY_LEN(impls); j++)
                    if (strcmp(impls[j].iface, iface) == 0 && strcmp(impls[j].func, m.name) == 0)
                        funcs[nf].fn = impls[j].fn;
                nf++;
            }
        }
        eos_diag d;
        eos_diag_init(&d);
        int rc = eos_cm_host_define(h, full, text, funcs, nf, stream_dtor, (void *)"wasi", &d);
        free(text);
        if (rc) {
            fprintf(stderr, "%s: %s\n", full, d.message);
            return rc;
        }
    }
    return 0;
}

static void test_adapter(void)
{
    if (!EOS_CM_HAVE_APPS) {
        printf("SKIP: test components were not built (node/npm tools missing)\n");
        return;
    }
    size_t size;
    uint8_t *b = cmt_read_file(EOS_CM_APPS "/wasi-app.wasm", &size);
    eos_cm_component *c = NULL;
    eos_cm_host *h = NULL;
    eos_wasm_store *s = NULL;
    eos_cm_instance *i = NULL;
    eos_cm_arena *a = eos_cm_arena_new();
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK(b != NULL);
    EOS_CHECK_INT(eos_cm_component_new(b, size, NULL, &c, &d), 0);
    EOS_CHECK_INT(eos_cm_host_new(&h), 0);
    int rc = define_wasi(h, c);
    if (rc == EOS_ENOTFOUND) {
        printf("SKIP: jco's WASI WIT files are not installed\n");
        goto out;
    }
    EOS_CHECK_INT(rc, 0);
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    rc = eos_cm_instance_new(s, c, h, NULL, &i, &d);
    if (rc == EOS_EUNAVAILABLE) {
        printf("SKIP: engine not available\n");
        goto out;
    }
    if (rc)
        fprintf(stderr, "instantiate: %s\n", d.message);
    EOS_CHECK_INT(rc, 0);
    if (rc)
        goto out;
    eos_cm_val arg = {.of.str = {"tester", 6}}, r;
    rc = eos_cm_call_func(i, eos_cm_instance_func(i, "run"), &arg, 1, &r, 1, a, &d);
    if (rc)
        fprintf(stderr, "run: %s (unimplemented: %s)\n", d.message, unexpected);
    EOS_CHECK_INT(rc, 0);
    if (!rc) {
        static const char want[] = "app=demo year>=2024:1";
        EOS_CHECK_MEM(r.of.str.ptr, r.of.str.len, want, sizeof(want) - 1);
        static const char want_out[] = "hello tester from stdout\n";
        static const char want_err[] = "and stderr\n";
        EOS_CHECK_MEM(out_buf[0], out_len[0], want_out, sizeof(want_out) - 1);
        EOS_CHECK_MEM(out_buf[1], out_len[1], want_err, sizeof(want_err) - 1);
    }
out:
    eos_cm_instance_free(i);
    eos_wasm_store_free(s);
    eos_cm_host_free(h);
    eos_cm_component_free(c);
    eos_cm_arena_free(a);
    free(b);
}

int main(void)
{
    EOS_RUN(test_adapter);
    return eos_test_finish();
}
