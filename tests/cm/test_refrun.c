/* The component model's reference run scripts (values/, resources/, and
 * async/ reported as skipped) in process: refrun.mjs made one manifest per
 * script; each top-level component is instantiated once and its instance kept
 * across the script's commands, which call its exports through
 * eos_cm_call_func with typed values and compare the results or the trap.
 * Usage: test_refrun DIR KNOWN [SCRIPT...]
 *   SCRIPT is a manifest's name without .txt ("values-concat"); without one,
 *   every manifest in DIR runs and a summary table is printed. KNOWN lists
 *   "script:line reason" for commands known to fail; a failure not listed, or
 *   a listed command that passes, fails the run. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_testutil.h"
#include "eos/cm.h"

#define ASYNC_REASON "async ABI (WASI 0.3): not supported yet"
#define MAX_DEFS     64
#define MAX_REASONS  32

typedef struct def {
    char name[64];
    eos_cm_component *c;
    char skip[256]; /* nonempty: commands on it are skipped for this reason */
    char fail[600]; /* nonempty: it was refused (a failure already counted) */
} def;

typedef struct script {
    char name[128];
    unsigned passed, failed, skipped, known, fixed, msgdiff;
    char reasons[MAX_REASONS][200];
    unsigned reason_count[MAX_REASONS];
    unsigned nreasons;
} script;

/* The running state of one script. */
typedef struct runner {
    const char *dir;
    const char *known;
    script *sc;
    def defs[MAX_DEFS];
    unsigned ndefs;
    eos_wasm_store *store;
    eos_cm_instance *inst;
    char inst_skip[256]; /* why there is no instance to call (skip) */
    char inst_fail[600]; /* why there is no instance to call (failure) */
    eos_cm_arena *arena;
} runner;

static const char *known_reason(const char *known, const char *key)
{
    if (!known)
        return NULL;
    size_t kl = strlen(key);
    for (const char *p = known; (p = strstr(p, key)); p += kl)
        if ((p == known || p[-1] == '\n') && (p[kl] == ' ' || p[kl] == '\n' || !p[kl]))
            return p + kl;
    return NULL;
}

static void add_reason(script *sc, const char *why)
{
    for (unsigned i = 0; i < sc->nreasons; i++)
        if (!strcmp(sc->reasons[i], why)) {
            sc->reason_count[i]++;
            return;
        }
    if (sc->nreasons == MAX_REASONS)
        return;
    snprintf(sc->reasons[sc->nreasons], sizeof sc->reasons[0], "%s", why);
    sc->reason_count[sc->nreasons++] = 1;
}

static void skip(runner *r, const char *key, const char *why)
{
    r->sc->skipped++;
    add_reason(r->sc, why);
    printf("skip %s: %s\n", key, why);
}

static void pass(runner *r, const char *key)
{
    if (known_reason(r->known, key)) {
        r->sc->fixed++;
        printf("FIXED %s: passes now (remove it from the known failures)\n", key);
        return;
    }
    r->sc->passed++;
}

static void fail(runner *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(runner *r, const char *key, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (known_reason(r->known, key)) {
        r->sc->known++;
        printf("known %s: %s\n", key, msg);
    } else {
        r->sc->failed++;
        printf("FAIL %s: %s\n", key, msg);
    }
}

/* The reference's trap messages are one implementation's wording; this
 * layer words the same checks its own way. A trap with a message the table
 * knows must carry one of the equivalent phrases, so a trap for another
 * reason (a bounds check where an alignment check was due) fails. */
static const struct {
    const char *theirs;
    const char *ours[3];
} trap_words[] = {
    {"unaligned pointer", {"align", NULL, NULL}},
    {"result not aligned", {"not aligned", NULL, NULL}},
    {"out-of-bounds", {"outside linear memory", NULL, NULL}},
    {"out of bounds", {"outside linear memory", NULL, NULL}},
    {"beyond end of memory", {"outside linear memory", NULL, NULL}},
    {"invalid `char` bit pattern", {"invalid char value", NULL, NULL}},
    {"utf-8", {"invalid UTF-8", NULL, NULL}},
    {"invalid variant discriminant", {"discriminant", NULL, NULL}},
    {"cannot remove owned resource while borrowed", {"lent out", NULL, NULL}},
    {"used with the wrong type", {"is not a", "not a", NULL}},
};

/* 1: the message matches (or the table has an equivalent that does), 0: it
 * differs from a wording the table knows, -1: the table does not know it. */
static int trap_matches(const char *got, const char *want)
{
    if (strstr(got, want))
        return 1;
    for (size_t i = 0; i < sizeof trap_words / sizeof trap_words[0]; i++) {
        if (!strstr(want, trap_words[i].theirs))
            continue;
        for (int k = 0; k < 3 && trap_words[i].ours[k]; k++)
            if (strstr(got, trap_words[i].ours[k]))
                return 1;
        return 0;
    }
    return -1;
}

/* ---- Values ------------------------------------------------------------------ */

/* Reads the next space-separated token of *p; returns NULL at the end. */
static char *token(char **p)
{
    while (**p == ' ')
        (*p)++;
    if (!**p)
        return NULL;
    char *t = *p;
    while (**p && **p != ' ')
        (*p)++;
    if (**p)
        *(*p)++ = 0;
    return t;
}

static int case_index(const eos_cm_type *t, const char *name, uint32_t *out)
{
    for (uint32_t i = 0; i < t->count; i++)
        if (t->names && !strcmp(t->names[i], name)) {
            *out = i;
            return 0;
        }
    return -1;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Parses one value of type t from the manifest's prefix form into out
 * (parts allocated from a). Returns 0, or -1 with why filled. */
static int parse_val(const eos_cm_type *t, char **p, eos_cm_arena *a, eos_cm_val *out, char *why,
                     size_t wn)
{
    char *tok = token(p);
    if (!tok) {
        snprintf(why, wn, "value missing");
        return -1;
    }
    char *colon = strchr(tok, ':');
    if (!colon) {
        snprintf(why, wn, "bad value token '%s'", tok);
        return -1;
    }
    *colon = 0;
    const char *tag = tok, *arg = colon + 1;
#define WANT(s)                                                                                    \
    do {                                                                                           \
        if (strcmp(tag, s)) {                                                                      \
            snprintf(why, wn, "a %s value given for a parameter of kind %d", tag, t->kind);        \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)
    switch ((eos_cm_kind)t->kind) {
    case EOS_CM_BOOL:
        WANT("b");
        out->of.b = arg[0] == '1';
        return 0;
    case EOS_CM_S8:
    case EOS_CM_S16:
    case EOS_CM_S32:
    case EOS_CM_S64:
        WANT("i");
        out->of.s = strtoll(arg, NULL, 10);
        return 0;
    case EOS_CM_U8:
    case EOS_CM_U16:
    case EOS_CM_U32:
    case EOS_CM_U64:
        WANT("i");
        out->of.u = arg[0] == '-' ? (uint64_t)strtoll(arg, NULL, 10) : strtoull(arg, NULL, 10);
        return 0;
    case EOS_CM_F32:
        WANT("f");
        out->of.f32 = strtof(arg, NULL);
        return 0;
    case EOS_CM_F64:
        WANT("f");
        out->of.f64 = strtod(arg, NULL);
        return 0;
    case EOS_CM_CHAR:
        WANT("c");
        out->of.ch = (uint32_t)strtoul(arg, NULL, 10);
        return 0;
    case EOS_CM_STRING: {
        WANT("s");
        size_t n = strlen(arg) / 2;
        char *s = eos_cm_arena_alloc(a, n + 1);
        if (!s)
            return -1;
        for (size_t i = 0; i < n; i++)
            s[i] = (char)(hexval(arg[2 * i]) << 4 | hexval(arg[2 * i + 1]));
        out->of.str.ptr = s;
        out->of.str.len = n;
        return 0;
    }
    case EOS_CM_LIST:
    case EOS_CM_TUPLE:
    case EOS_CM_RECORD: {
        const char *want = t->kind == EOS_CM_LIST ? "l" : t->kind == EOS_CM_TUPLE ? "tu" : "r";
        WANT(want);
        size_t n = strtoull(arg, NULL, 10);
        if (t->kind != EOS_CM_LIST && n != t->count) {
            snprintf(why, wn, "%zu members given for %u", n, t->count);
            return -1;
        }
        eos_cm_val *items = eos_cm_arena_alloc(a, (n + 1) * sizeof *items);
        if (!items)
            return -1;
        for (size_t i = 0; i < n; i++) {
            const eos_cm_type *et = t->kind == EOS_CM_LIST ? t->elem : t->types[i];
            size_t slot = i;
            if (t->kind == EOS_CM_RECORD) {
                char *nt = token(p);
                uint32_t k;
                if (!nt || strncmp(nt, "n:", 2) || case_index(t, nt + 2, &k)) {
                    snprintf(why, wn, "bad record field %s", nt ? nt : "(none)");
                    return -1;
                }
                slot = k, et = t->types[k];
            }
            if (parse_val(et, p, a, &items[slot], why, wn))
                return -1;
        }
        if (t->kind == EOS_CM_LIST && (t->elem->kind == EOS_CM_U8 || t->elem->kind == EOS_CM_S8)) {
            uint8_t *b = eos_cm_arena_alloc(a, n + 1);
            if (!b)
                return -1;
            for (size_t i = 0; i < n; i++)
                b[i] = (uint8_t)items[i].of.u;
            out->of.list.bytes = b;
        } else {
            out->of.list.items = items;
        }
        out->of.list.len = n;
        return 0;
    }
    case EOS_CM_VARIANT:
    case EOS_CM_ENUM: {
        WANT(t->kind == EOS_CM_VARIANT ? "v" : "e");
        char *c2 = strchr(arg, ':');
        if (c2)
            *c2 = 0;
        uint32_t k;
        if (case_index(t, arg, &k)) {
            snprintf(why, wn, "no case %s", arg);
            return -1;
        }
        out->of.var.index = k;
        out->of.var.payload = NULL;
        if (c2 && c2[1] == '1') {
            const eos_cm_type *pt = eos_cm_type_case(t, k);
            eos_cm_val *pv = eos_cm_arena_alloc(a, sizeof *pv);
            if (!pt || !pv) {
                snprintf(why, wn, "case %s has no payload", arg);
                return -1;
            }
            out->of.var.payload = pv;
            return parse_val(pt, p, a, pv, why, wn);
        }
        return 0;
    }
    case EOS_CM_OPTION:
    case EOS_CM_RESULT: {
        uint32_t k;
        if (t->kind == EOS_CM_OPTION) {
            WANT("o");
            k = arg[0] == '1';
        } else {
            if (strcmp(tag, "ok") && strcmp(tag, "err")) {
                snprintf(why, wn, "a %s value given for a result", tag);
                return -1;
            }
            k = !strcmp(tag, "err");
        }
        out->of.var.index = k;
        out->of.var.payload = NULL;
        bool has = t->kind == EOS_CM_OPTION ? k == 1 : arg[0] == '1';
        if (has) {
            const eos_cm_type *pt = eos_cm_type_case(t, k);
            eos_cm_val *pv = eos_cm_arena_alloc(a, sizeof *pv);
            if (!pt || !pv) {
                snprintf(why, wn, "case %u has no payload", k);
                return -1;
            }
            out->of.var.payload = pv;
            return parse_val(pt, p, a, pv, why, wn);
        }
        return 0;
    }
    case EOS_CM_FLAGS: {
        WANT("g");
        size_t n = strtoull(arg, NULL, 10);
        uint32_t *more = NULL;
        if (t->count > 64) {
            more = eos_cm_arena_alloc(a, ((t->count - 64 + 31) / 32) * sizeof *more);
            if (!more)
                return -1;
        }
        out->of.flags.bits = 0;
        out->of.flags.more = more;
        for (size_t i = 0; i < n; i++) {
            char *nt = token(p);
            uint32_t k;
            if (!nt || strncmp(nt, "n:", 2) || case_index(t, nt + 2, &k)) {
                snprintf(why, wn, "bad flag %s", nt ? nt : "(none)");
                return -1;
            }
            if (k < 64)
                out->of.flags.bits |= 1ull << k;
            else
                more[(k - 64) / 32] |= 1u << ((k - 64) % 32);
        }
        return 0;
    }
    case EOS_CM_OWN:
    case EOS_CM_BORROW:
        snprintf(why, wn, "handle values are not written in scripts");
        return -1;
    }
#undef WANT
    snprintf(why, wn, "unknown kind %d", t->kind);
    return -1;
}

static int parse_vals(uint32_t n, const eos_cm_type *const *types, char *text, eos_cm_arena *a,
                      eos_cm_val *out, char *why, size_t wn)
{
    char *p = text;
    for (uint32_t i = 0; i < n; i++)
        if (parse_val(types[i], &p, a, &out[i], why, wn))
            return -1;
    if (token(&p)) {
        snprintf(why, wn, "more values given than the function's %u", n);
        return -1;
    }
    return 0;
}

/* Prints values into buf for a failure message. */
static void show(char *buf, size_t n, uint32_t count, const eos_cm_type *const *types,
                 const eos_cm_val *v)
{
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    if (!f) {
        snprintf(buf, n, "?");
        return;
    }
    fputc('(', f);
    for (uint32_t i = 0; i < count; i++) {
        if (i)
            fputs(", ", f);
        eos_cm_val_print(types[i], &v[i], f);
    }
    fputc(')', f);
    fclose(f);
    snprintf(buf, n, "%s", s);
    free(s);
}

/* ---- Commands ------------------------------------------------------------------ */

static void drop_instance(runner *r)
{
    eos_cm_instance_free(r->inst);
    eos_wasm_store_free(r->store);
    r->inst = NULL;
    r->store = NULL;
}

static def *find_def(runner *r, const char *name)
{
    for (unsigned i = r->ndefs; i-- > 0;)
        if (!strcmp(r->defs[i].name, name))
            return &r->defs[i];
    return NULL;
}

static void cmd_def(runner *r, const char *key, char **f, int nf, bool bad)
{
    if (r->ndefs == MAX_DEFS) {
        fail(r, key, "too many definitions in one script");
        return;
    }
    def *d = &r->defs[r->ndefs++];
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", f[3]);
    if (bad) {
        snprintf(d->skip, sizeof d->skip, "the text parser refuses it");
        skip(r, key, d->skip);
        printf("  (%s)\n", nf > 4 ? f[4] : "no reason given");
        return;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", r->dir, nf > 4 ? f[4] : "");
    size_t len = 0;
    uint8_t *bin = cmt_read_file(path, &len);
    if (!bin) {
        snprintf(d->fail, sizeof d->fail, "cannot read %.400s", path);
        fail(r, key, "%s", d->fail);
        return;
    }
    eos_diag diag = {0};
    int rc = eos_cm_component_new(bin, len, NULL, &d->c, &diag);
    free(bin);
    if (rc == 0) {
        pass(r, key);
        return;
    }
    d->c = NULL;
    if (rc == EOS_EUNSUPPORTED && nf > 5 && f[5][0] == '1') {
        snprintf(d->skip, sizeof d->skip, "%s", ASYNC_REASON);
        skip(r, key, d->skip);
        printf("  (refused as: %s)\n", diag.message);
        return;
    }
    snprintf(d->fail, sizeof d->fail, "a valid component is refused: %s", diag.message);
    fail(r, key, "%s", d->fail);
}

static void cmd_inst(runner *r, const char *key, const char *name)
{
    drop_instance(r);
    r->inst_skip[0] = r->inst_fail[0] = 0;
    def *d = find_def(r, name);
    if (!d) {
        snprintf(r->inst_fail, sizeof r->inst_fail, "no definition %s", name);
        fail(r, key, "%s", r->inst_fail);
        return;
    }
    if (d->skip[0]) {
        snprintf(r->inst_skip, sizeof r->inst_skip, "%s", d->skip);
        return;
    }
    if (d->fail[0]) {
        snprintf(r->inst_fail, sizeof r->inst_fail, "its component was refused");
        return;
    }
    eos_diag diag = {0};
    int rc = eos_wasm_store_new(NULL, &r->store);
    if (rc == 0)
        rc = eos_cm_instance_new(r->store, d->c, NULL, NULL, &r->inst, &diag);
    if (rc) {
        r->inst = NULL;
        snprintf(r->inst_fail, sizeof r->inst_fail, "instantiation failed: %s (%s)", diag.message,
                 eos_strerror(rc));
        fail(r, key, "%s", r->inst_fail);
        return;
    }
    /* Instantiating is a step the script takes; counted once per instance
     * only for top-level components (their definition line already counts). */
}

static void cmd_call(runner *r, const char *key, char **f, int nf)
{
    const char *cmd = f[0], *fname = f[3];
    if (!r->inst) {
        if (r->inst_skip[0])
            skip(r, key, r->inst_skip);
        else
            fail(r, key, "no instance to call: %s", r->inst_fail[0] ? r->inst_fail : "none made");
        return;
    }
    eos_cm_func *fn = eos_cm_instance_func(r->inst, fname);
    if (!fn) {
        fail(r, key, "no export %s", fname);
        return;
    }
    const eos_cm_functype *ft = eos_cm_func_type(fn);
    eos_cm_arena_reset(r->arena);
    eos_cm_val *args = eos_cm_arena_alloc(r->arena, (ft->param_count + 1) * sizeof *args);
    eos_cm_val *res = eos_cm_arena_alloc(r->arena, (ft->result_count + 1) * sizeof *res);
    eos_cm_val *want = eos_cm_arena_alloc(r->arena, (ft->result_count + 1) * sizeof *want);
    char why[300];
    if (parse_vals(ft->param_count, ft->params, nf > 4 ? f[4] : "", r->arena, args, why,
                   sizeof why)) {
        fail(r, key, "arguments: %s", why);
        return;
    }
    bool ret = !strcmp(cmd, "return");
    if (ret && parse_vals(ft->result_count, ft->results, nf > 5 ? f[5] : "", r->arena, want, why,
                          sizeof why)) {
        fail(r, key, "expected results: %s", why);
        return;
    }
    eos_diag diag = {0};
    int rc = eos_cm_call_func(r->inst, fn, args, ft->param_count, res, ft->result_count, r->arena,
                              &diag);
    if (!strcmp(cmd, "trap")) {
        const char *msg = nf > 5 ? f[5] : "";
        if (!eos_is_trap(rc)) {
            fail(r, key, "%s returned (rc %d), expected a trap \"%s\"", fname, rc, msg);
            return;
        }
        /* A guest's own unreachable stands for a check that failed in the
         * guest, not for the trap the canonical ABI must raise. */
        if (rc == EOS_TRAP_UNREACHABLE && !strstr(msg, "unreachable")) {
            fail(r, key, "%s hit the guest's unreachable, expected \"%s\"", fname, msg);
            return;
        }
        int m = trap_matches(diag.message, msg);
        if (m == 0) {
            fail(r, key, "%s trapped with \"%s\", not for \"%s\"", fname, diag.message, msg);
            return;
        }
        if (m < 0) {
            r->sc->msgdiff++;
            printf("note %s: trapped with \"%s\", the script says \"%s\"\n", key, diag.message,
                   msg);
        }
        pass(r, key);
        /* A trapped instance is not entered again; scripts make a new one. */
        return;
    }
    if (rc) {
        fail(r, key, "%s failed: %s (%s)", fname, diag.message, eos_strerror(rc));
        return;
    }
    if (ret) {
        for (uint32_t i = 0; i < ft->result_count; i++)
            if (!eos_cm_val_equal(ft->results[i], &res[i], &want[i])) {
                char got_s[600], want_s[600];
                show(got_s, sizeof got_s, ft->result_count, ft->results, res);
                show(want_s, sizeof want_s, ft->result_count, ft->results, want);
                fail(r, key, "%s returned %s, expected %s", fname, got_s, want_s);
                return;
            }
    }
    pass(r, key);
}

static int split(char *line, char **f, int max)
{
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == '\t') {
            *p = 0;
            f[n++] = p + 1;
        }
    return n;
}

static int run_script(const char *dir, const char *known, script *sc)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.txt", dir, sc->name);
    size_t size = 0;
    char *text = (char *)cmt_read_file(path, &size);
    if (!text) {
        fprintf(stderr, "test_refrun: cannot read %s\n", path);
        return -1;
    }
    runner *r = calloc(1, sizeof *r);
    if (!r) {
        free(text);
        return -1;
    }
    r->dir = dir;
    r->known = known;
    r->sc = sc;
    r->arena = eos_cm_arena_new();
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[8];
        int nf = split(line, f, 8);
        if (nf < 4)
            continue;
        char key[256];
        snprintf(key, sizeof key, "%s:%s", f[1], f[2]);
        if (!strcmp(f[0], "skip"))
            skip(r, key, f[3]);
        else if (!strcmp(f[0], "def") || !strcmp(f[0], "bad"))
            cmd_def(r, key, f, nf, f[0][0] == 'b');
        else if (!strcmp(f[0], "inst"))
            cmd_inst(r, key, f[3]);
        else
            cmd_call(r, key, f, nf);
        fflush(stdout);
    }
    drop_instance(r);
    for (unsigned i = 0; i < r->ndefs; i++)
        eos_cm_component_free(r->defs[i].c);
    eos_cm_arena_free(r->arena);
    free(r);
    free(text);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_refrun DIR KNOWN [SCRIPT...]\n");
        return 2;
    }
    const char *dir = argv[1];
    size_t ksize = 0;
    char *known = (char *)cmt_read_file(argv[2], &ksize);
    if (!known) {
        fprintf(stderr, "test_refrun: cannot read %s\n", argv[2]);
        return 2;
    }
    char *names[256];
    int n = 0;
    if (argc > 3) {
        for (int i = 3; i < argc && n < 256; i++)
            names[n++] = argv[i];
    } else {
        DIR *dp = opendir(dir);
        if (!dp) {
            fprintf(stderr, "test_refrun: cannot open %s\n", dir);
            return 2;
        }
        for (struct dirent *e; (e = readdir(dp)) && n < 256;) {
            size_t l = strlen(e->d_name);
            if (l > 4 && !strcmp(e->d_name + l - 4, ".txt")) {
                names[n] = strdup(e->d_name);
                names[n++][l - 4] = 0;
            }
        }
        closedir(dp);
        qsort(names, (size_t)n, sizeof names[0], cmp_names);
    }
    script *scs = calloc((size_t)n + 1, sizeof *scs);
    if (!scs)
        return 2;
    int bad = 0;
    for (int i = 0; i < n; i++) {
        snprintf(scs[i].name, sizeof scs[i].name, "%s", names[i]);
        if (run_script(dir, known, &scs[i]))
            bad = 1;
    }
    unsigned tp = 0, tf = 0, ts = 0, tk = 0, tx = 0, tm = 0;
    printf("\n%-48s %7s %7s %7s %7s %9s\n", "script", "passed", "failed", "known", "skipped",
           "msg-diff");
    for (int i = 0; i < n; i++) {
        script *s = &scs[i];
        printf("%-48s %7u %7u %7u %7u %9u\n", s->name, s->passed, s->failed + s->fixed, s->known,
               s->skipped, s->msgdiff);
        tp += s->passed, tf += s->failed, ts += s->skipped, tk += s->known, tx += s->fixed;
        tm += s->msgdiff;
    }
    printf("%-48s %7u %7u %7u %7u %9u\n", "total", tp, tf + tx, tk, ts, tm);
    printf("(known: failures listed with their reason in the known-failures file; skipped:\n"
           " by reason below; msg-diff: traps whose wording neither matches the script's\n"
           " nor a known equivalent, passed but shown)\n");
    /* Skip reasons over all scripts. */
    script all = {0};
    for (int i = 0; i < n; i++)
        for (unsigned k = 0; k < scs[i].nreasons; k++)
            for (unsigned c = 0; c < scs[i].reason_count[k]; c++)
                add_reason(&all, scs[i].reasons[k]);
    for (unsigned k = 0; k < all.nreasons; k++)
        printf("skipped %u: %s\n", all.reason_count[k], all.reasons[k]);
    if (tf)
        printf("%u command(s) failed that the known failures do not list\n", tf);
    if (tx)
        printf("%u listed command(s) pass now: remove them from the known failures\n", tx);
    if (argc <= 3)
        for (int i = 0; i < n; i++)
            free(names[i]);
    free(scs);
    free(known);
    return bad || tf || tx ? 1 : 0;
}
