/* A standalone RA-TLS test server for openssl s_client, Python and manual
 * use until the real server wires RA-TLS in:
 *   ratls_test_server --data-dir DIR [--port N] [--app NAME:ROUTE:HOST:HEX]...
 * prints "port N" on stdout once it listens, serves until killed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tls_server.h"

int main(int argc, char **argv)
{
    const char *data_dir = NULL;
    int port = 0, n_apps = 0;
    static eos_ratls_app apps[16];
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--data-dir") == 0) {
            data_dir = argv[i + 1];
        } else if (strcmp(argv[i], "--port") == 0) {
            port = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--app") == 0 && n_apps < 16) {
            /* NAME:ROUTE:HOSTNAME:CODEHASH, HOSTNAME may be empty. */
            char *s = argv[i + 1], *f[4];
            for (int k = 0; k < 4; k++) {
                f[k] = s;
                s = s ? strchr(s, ':') : NULL;
                if (s)
                    *s++ = '\0';
            }
            if (!f[3] || eos_hex_decode(f[3], apps[n_apps].code_hash, 32) != 0) {
                fprintf(stderr, "bad --app %s\n", argv[i + 1]);
                return 2;
            }
            apps[n_apps].name = f[0];
            apps[n_apps].route = f[1];
            apps[n_apps].hostname = f[2][0] ? f[2] : NULL;
            n_apps++;
        }
    }
    if (!data_dir) {
        fprintf(stderr, "usage: ratls_test_server --data-dir DIR [--port N] [--app N:R:H:HEX]\n");
        return 2;
    }
    eos_diag d;
    eos_diag_init(&d);
    eos_tee_config tc = {.kind = "sim", .data_dir = data_dir};
    eos_tee *tee = NULL;
    eos_ratls_server *srv = NULL;
    eos_ratls_server_options o = {.data_dir = data_dir, .server_name = "localhost"};
    eos_ratls_config cfg = {.apps = apps, .app_count = (size_t)n_apps};
    test_tls_server *t = NULL;
    if (eos_tee_open(&tc, &tee, &d) != 0 || eos_ratls_server_new(tee, &o, &srv, &d) != 0 ||
        eos_ratls_server_set_config(srv, &cfg, &d) != 0 ||
        test_tls_server_start(srv, port, 1, &t, &port) != 0) {
        fprintf(stderr, "ratls_test_server: %s\n", d.message);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    printf("port %d\n", port);
    fflush(stdout);
    for (;;)
        pause();
}
