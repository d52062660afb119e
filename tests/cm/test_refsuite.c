/* The component model's reference tests (assert_invalid, assert_malformed)
 * through the validator: every binary refwast.mjs made must be refused. Prints
 * passed / failed / skipped per kind (the script's name) and fails when a
 * component not listed in the known-failures file is accepted.
 * Usage: test_refsuite DIR [KNOWN]  (DIR holds manifest.txt and the binaries) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_testutil.h"
#include "eos/cm.h"

#define MAX_KINDS 128

typedef struct kind_count {
    char name[96];
    unsigned passed, failed, skipped, unsupported, valid_ok, valid_bad;
} kind_count;

static kind_count kinds[MAX_KINDS];
static size_t nkinds;

static kind_count *kind_of(const char *name)
{
    for (size_t i = 0; i < nkinds; i++)
        if (!strcmp(kinds[i].name, name))
            return &kinds[i];
    if (nkinds == MAX_KINDS)
        return &kinds[MAX_KINDS - 1];
    snprintf(kinds[nkinds].name, sizeof kinds[nkinds].name, "%s", name);
    return &kinds[nkinds++];
}

/* Splits a manifest line at tabs in place; returns the field count. */
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

/* Whether "file:line" is in the known-failures text (one a line, '#' comments). */
static int known(const char *known_text, const char *key)
{
    if (!known_text)
        return 0;
    size_t kl = strlen(key);
    for (const char *p = known_text; (p = strstr(p, key)); p += kl)
        if ((p == known_text || p[-1] == '\n') && (p[kl] == '\n' || p[kl] == ' ' || !p[kl]))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_refsuite DIR [KNOWN]\n");
        return 2;
    }
    const char *dir = argv[1];
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.txt", dir);
    size_t size = 0;
    char *manifest = (char *)cmt_read_file(path, &size);
    if (!manifest) {
        fprintf(stderr, "test_refsuite: cannot read %s\n", path);
        return 1;
    }
    char *known_text = argc > 2 ? (char *)cmt_read_file(argv[2], &size) : NULL;
    unsigned unexpected = 0, fixed = 0, skipped_total = 0;
    char *save = NULL;
    for (char *line = strtok_r(manifest, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[8];
        int nf = split(line, f, 8);
        if (nf < 6)
            continue;
        const char *msg = nf > 6 ? f[6] : "";
        /* kind, file, line, command, outcome, path-or-reason, message */
        kind_count *k = kind_of(f[0]);
        char key[256];
        snprintf(key, sizeof key, "%s:%s", f[1], f[2]);
        if (!strcmp(f[4], "skip")) {
            k->skipped++;
            skipped_total++;
            printf("skip %s (%s)\n", key, f[5]);
            continue;
        }
        if (!strcmp(f[4], "parse-rejected")) {
            k->passed++;
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", dir, f[5]);
        size_t blen = 0;
        uint8_t *bin = cmt_read_file(path, &blen);
        if (!bin) {
            fprintf(stderr, "test_refsuite: cannot read %s\n", path);
            return 1;
        }
        eos_diag diag = {0};
        eos_cm_component *c = NULL;
        int rc = eos_cm_component_new(bin, blen, NULL, &c, &diag);
        free(bin);
        int is_known = known(known_text, key);
        if (!strcmp(f[3], "valid")) {
            /* A valid component: accepted, or refused only for a feature the
             * layer does not implement. */
            eos_cm_component_free(c);
            if (rc == 0 || rc == EOS_EUNSUPPORTED) {
                k->valid_ok++;
                if (rc)
                    k->unsupported++;
            } else {
                k->valid_bad++;
                printf("%s %s: a valid component is refused: %s\n", is_known ? "known" : "FAIL", key,
                       diag.message);
                if (!is_known)
                    unexpected++;
            }
            continue;
        }
        if (rc < 0) {
            k->passed++;
            /* Refused, but for a feature the layer lacks rather than by a
             * validation rule: counted, and shown apart. */
            if (rc == EOS_EUNSUPPORTED)
                k->unsupported++;
            if (is_known) {
                fixed++;
                printf("fixed %s: now refused (remove it from the known failures)\n", key);
            }
        } else {
            eos_cm_component_free(c);
            k->failed++;
            printf("%s %s: accepted, expected %s \"%s\"\n", is_known ? "known" : "FAIL", key, f[3],
                   msg);
            if (!is_known)
                unexpected++;
        }
    }
    unsigned tp = 0, tf = 0, tu = 0, tvo = 0, tvb = 0;
    printf("\n%-42s %7s %7s %7s %13s %6s %6s\n", "kind (invalid / valid components)", "passed",
           "failed", "skipped", "(unsupported)", "valid", "refused");
    for (size_t i = 0; i < nkinds; i++) {
        kind_count *k = &kinds[i];
        printf("%-42s %7u %7u %7u %13u %6u %6u\n", k->name, k->passed, k->failed, k->skipped,
               k->unsupported, k->valid_ok, k->valid_bad);
        tp += k->passed, tf += k->failed, tu += k->unsupported;
        tvo += k->valid_ok, tvb += k->valid_bad;
    }
    printf("%-42s %7u %7u %7u %13u %6u %6u\n", "total", tp, tf, skipped_total, tu, tvo, tvb);
    printf("(passed/failed: invalid components refused/accepted; valid/refused: valid ones\n"
           " accepted/refused; skipped: what needs the async ABI of WASI 0.3 or nyi.txt lists;\n"
           " unsupported: refused as a feature the layer lacks, counted as passed or valid)\n");
    free(manifest);
    free(known_text);
    if (unexpected)
        printf("%u invalid component(s) accepted that the known failures do not list\n",
               unexpected);
    return unexpected || fixed ? 1 : 0;
}
