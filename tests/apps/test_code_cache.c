/* The sealed cache of compiled code: an entry comes back only for the same
 * module bytes and the same options; one flipped bit, an entry copied over
 * another key's file, or another platform's seal is reported as corrupt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eos/apps.h"
#include "eos/tee.h"
#include "harness.h"

static char dir[] = "/tmp/eos-codecache-XXXXXX";

static const uint8_t wasm_a[] = "\0asm\1\0\0\0module a";
static const uint8_t wasm_b[] = "\0asm\1\0\0\0module b";
static const uint8_t code[] = "EOSJIT01 stand-in for relocatable objects";

static int get(const eos_wasm_code_cache *h, const uint8_t *w, size_t n, const char *opts)
{
    uint8_t *out = NULL;
    size_t size = 0;
    int rc = h->get(h->ctx, w, n, opts, &out, &size);
    if (rc == 0) {
        EOS_CHECK(size == sizeof(code) && memcmp(out, code, size) == 0);
        eos_free(out, size);
    }
    return rc;
}

/* The one file in dir/code-cache whose name is not skip, into path. */
static void entry(char *path, size_t cap, const char *skip)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls %s/code-cache/*.sealed", dir);
    FILE *p = popen(cmd, "r");
    char line[400];
    path[0] = 0;
    while (p && fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = 0;
        if (!skip || strcmp(line, skip) != 0)
            snprintf(path, cap, "%s", line);
    }
    if (p)
        pclose(p);
}

static void flip(const char *path)
{
    FILE *f = fopen(path, "r+b");
    EOS_CHECK(f != NULL);
    fseek(f, 40, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 40, SEEK_SET);
    fputc(c ^ 1, f);
    fclose(f);
}

static void test_cache(void)
{
    eos_tee *tee = NULL;
    eos_tee_config tc = {.kind = "sim", .data_dir = dir};
    EOS_CHECK_INT(eos_tee_open(&tc, &tee, NULL), 0);
    eos_apps_code_cache *c = NULL;
    EOS_CHECK_INT(eos_apps_code_cache_new(tee, dir, &c, NULL), 0);
    const eos_wasm_code_cache *h = eos_apps_code_cache_hooks(c);
    const char *opts = "EOSJIT01;llvm=15;cpu=x;features=+a";

    EOS_CHECK_INT(get(h, wasm_a, sizeof wasm_a, opts), EOS_ENOTFOUND);
    EOS_CHECK_INT(h->put(h->ctx, wasm_a, sizeof wasm_a, opts, code, sizeof code), 0);
    EOS_CHECK_INT(get(h, wasm_a, sizeof wasm_a, opts), 0);
    /* Other options (another CPU, compiler or code option) or other bytes miss. */
    EOS_CHECK_INT(get(h, wasm_a, sizeof wasm_a, "EOSJIT01;llvm=15;cpu=y;features=+a"),
                  EOS_ENOTFOUND);
    EOS_CHECK_INT(get(h, wasm_a, sizeof wasm_a, "EOSJIT01;llvm=16;cpu=x;features=+a"),
                  EOS_ENOTFOUND);
    EOS_CHECK_INT(get(h, wasm_b, sizeof wasm_b, opts), EOS_ENOTFOUND);

    /* An entry copied over another key's file names the wrong key. */
    char a_path[400], b_path[400], cmd[1000];
    entry(a_path, sizeof a_path, NULL);
    EOS_CHECK_INT(h->put(h->ctx, wasm_b, sizeof wasm_b, opts, code, sizeof code), 0);
    entry(b_path, sizeof b_path, a_path);
    EOS_CHECK(b_path[0] != 0);
    snprintf(cmd, sizeof cmd, "cp %s %s", a_path, b_path);
    EOS_CHECK_INT(system(cmd), 0);
    EOS_CHECK_INT(get(h, wasm_b, sizeof wasm_b, opts), EOS_ECORRUPT);

    /* One flipped bit. */
    flip(a_path);
    EOS_CHECK_INT(get(h, wasm_a, sizeof wasm_a, opts), EOS_ECORRUPT);
    uint64_t hits, misses, rejected;
    eos_apps_code_cache_stats(c, &hits, &misses, &rejected);
    EOS_CHECK(hits == 1 && misses == 4 && rejected == 2);
    /* Put again: the entry is whole again. */
    EOS_CHECK_INT(h->put(h->ctx, wasm_a, sizeof wasm_a, opts, code, sizeof code), 0);
    EOS_CHECK_INT(get(h, wasm_a, sizeof wasm_a, opts), 0);
    eos_apps_code_cache_free(c);
    eos_tee_free(tee);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    EOS_RUN(test_cache);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return eos_test_finish();
}
