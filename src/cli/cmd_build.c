/* `enclave-os build`: builds an app reproducibly from a source directory and
 * writes its provenance. The work is done by scripts/build-app.sh (found next
 * to this executable's source tree or install, or named by EOS_BUILD_APP);
 * this command checks the command line and runs it. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static int run(int argc, char **argv);

const eos_cli_command eos_cli_build = {
    "build",
    "build an app reproducibly from a source directory and write its provenance",
    "usage: enclave-os build SRC_DIR [options]\n\n"
    "Builds the app in SRC_DIR into a component: *.c files through the SDK (clang,\n"
    "wasi-libc, jco), or one *.js file through the pinned componentize-js (its engine\n"
    "snapshot taken with fixed entropy and clocks). The same sources and toolchain give\n"
    "the same bytes in any directory at any time. Prints the component's SHA-256 as\n"
    "sha256sum does and writes DIR/NAME.wasm and DIR/NAME.provenance.json: the source\n"
    "tree hash, the toolchain versions and the output hash. Upload the provenance with\n"
    "the component from the console to have it shown with the app.\n\n"
    "Options:\n"
    "  -o, --out DIR              where to write (default ./build-app)\n"
    "  -n, --name NAME            app name (default: SRC_DIR's name)\n"
    "  --world WIT|NAME           the world: a .wit file, or for C an SDK world name\n"
    "                             (default SRC_DIR/world.wit, else C's http-app)\n"
    "  --source-date-epoch N      the build time, in seconds since 1970 (default: the\n"
    "                             SOURCE_DATE_EPOCH variable, else the last git commit\n"
    "                             of SRC_DIR, else 0)\n"
    "  --strict                   refuse a toolchain that differs from the pinned one\n"
    "                             (default: warn)\n"
    "  -h, --help                 show this help\n\n"
    "Needs the toolchain of scripts/install-deps.sh (clang and wasi-libc for C; node,\n"
    "tools/node_modules and a host C compiler for JavaScript). EOS_BUILD_APP names the\n"
    "build script when it is not found next to this program.\n\n"
    "Exit status: 0 built, 1 the build failed, 2 usage error.\n",
    run,
};

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Finds scripts/build-app.sh: EOS_BUILD_APP, else in a parent directory of this
 * executable (a build tree inside the source tree) or its share/enclave-os.
 * Writes the path to out (cap bytes); 0 or -1. */
static int find_script(char *out, size_t cap)
{
    const char *env = getenv("EOS_BUILD_APP");
    if (env && env[0]) {
        if (!is_file(env))
            return -1;
        snprintf(out, cap, "%s", env);
        return 0;
    }
    char dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n <= 0)
        return -1;
    dir[n] = 0;
    for (int up = 0; up < 8; up++) {
        char *slash = strrchr(dir, '/');
        if (!slash)
            break;
        *slash = 0;
        static const char *const tails[] = {"scripts/build-app.sh",
                                            "share/enclave-os/scripts/build-app.sh"};
        for (size_t i = 0; i < EOS_ARRAY_LEN(tails); i++) {
            int w = snprintf(out, cap, "%s/%s", dir, tails[i]);
            if (w > 0 && (size_t)w < cap && is_file(out))
                return 0;
        }
    }
    return -1;
}

static int run(int argc, char **argv)
{
    const eos_cli_command *cmd = &eos_cli_build;
    enum { O_WORLD = 256, O_EPOCH, O_STRICT };
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},
        {"name", required_argument, 0, 'n'},
        {"world", required_argument, 0, O_WORLD},
        {"source-date-epoch", required_argument, 0, O_EPOCH},
        {"strict", no_argument, 0, O_STRICT},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *out = NULL, *name = NULL, *world = NULL, *epoch = NULL;
    int strict = 0, c;
    uint64_t epoch_value = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case O_WORLD:
            world = optarg;
            break;
        case O_EPOCH:
            if (eos_cli__parse_uint(optarg, 0, 253402300799ULL, &epoch_value) < 0)
                return eos_cli__usage(cmd, "--source-date-epoch wants seconds, not '%s'", optarg);
            epoch = optarg;
            break;
        case O_STRICT:
            strict = 1;
            break;
        default:
            return eos_cli__option_rest(cmd, c, argv);
        }
    }
    if (optind != argc - 1)
        return eos_cli__usage(cmd, optind == argc ? "missing SRC_DIR" : "one SRC_DIR only");
    const char *src = argv[optind];
    struct stat st;
    if (stat(src, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "enclave-os build: %s is not a directory\n", src);
        return EOS_CLI_EXIT_FAIL;
    }
    /* The script reads a leading '-' as an option. */
    char src_arg[PATH_MAX];
    if (snprintf(src_arg, sizeof src_arg, "%s%s", src[0] == '-' ? "./" : "", src) >=
        (int)sizeof src_arg)
        return eos_cli__usage(cmd, "SRC_DIR is too long");
    char script[PATH_MAX];
    if (find_script(script, sizeof script) < 0) {
        fprintf(stderr, "enclave-os build: cannot find scripts/build-app.sh next to this "
                        "program; set EOS_BUILD_APP to its path\n");
        return EOS_CLI_EXIT_FAIL;
    }
    if (epoch && setenv("SOURCE_DATE_EPOCH", epoch, 1) != 0) {
        perror("enclave-os build: setenv");
        return EOS_CLI_EXIT_FAIL;
    }
    /* bash script SRC [--out DIR] [--name NAME] [--world W] [--strict] NULL */
    char *args[11];
    size_t k = 0;
    args[k++] = "bash";
    args[k++] = script;
    args[k++] = src_arg;
    if (out) {
        args[k++] = "--out";
        args[k++] = (char *)out;
    }
    if (name) {
        args[k++] = "--name";
        args[k++] = (char *)name;
    }
    if (world) {
        args[k++] = "--world";
        args[k++] = (char *)world;
    }
    if (strict)
        args[k++] = "--strict";
    args[k] = NULL;
    fflush(stdout);
    execvp("bash", args);
    perror("enclave-os build: cannot run bash");
    return EOS_CLI_EXIT_FAIL;
}
