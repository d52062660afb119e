/* A WASI preview1 command (wrapped with the preview1 command adapter into a
 * wasi:cli/run component) that prints its command line and environment
 * and exits 0 only when argv is {"prog", "a", "b c"}: how the tests see
 * what get-arguments gives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    const char *name = getenv("APP_NAME");
    printf("APP_NAME=%s\n", name ? name : "(unset)");
    return argc == 3 && strcmp(argv[0], "prog") == 0 && strcmp(argv[1], "a") == 0 &&
                   strcmp(argv[2], "b c") == 0
               ? 0
               : 3;
}
