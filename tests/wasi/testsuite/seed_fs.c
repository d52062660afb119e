/* Copies a test's directory into the app's "/" preopen before the test runs
 * (tests/wasi/testsuite/run.py): a WASI command whose arguments name what to
 * create, "d:PATH" a directory, "f:PATH:HEX" a file with these bytes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int put_file(char *spec)
{
    char *colon = strrchr(spec, ':');
    if (!colon)
        return -1;
    *colon = 0;
    const char *hex = colon + 1;
    int fd = open(spec, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    unsigned char buf[256];
    size_t n = 0;
    for (; hex[0] && hex[1]; hex += 2) {
        int hi = hexval(hex[0]), lo = hexval(hex[1]);
        if (hi < 0 || lo < 0)
            break;
        buf[n++] = (unsigned char)(hi << 4 | lo);
        if (n == sizeof buf) {
            if (write(fd, buf, n) != (ssize_t)n)
                break;
            n = 0;
        }
    }
    int ok = !hex[0] && (n == 0 || write(fd, buf, n) == (ssize_t)n);
    close(fd);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        int rc = -1;
        if (strncmp(argv[i], "d:", 2) == 0)
            rc = mkdir(argv[i] + 2, 0755) == 0 || errno == EEXIST ? 0 : -1;
        else if (strncmp(argv[i], "f:", 2) == 0)
            rc = put_file(argv[i] + 2);
        if (rc) {
            fprintf(stderr, "seed_fs: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
    }
    return 0;
}
