/* Helpers shared by the WASI driver tests and benchmarks: loading a built
 * component, an app over an in-memory or LMDB store, and a sink that
 * collects (or only counts) what the driver streams out. */
#ifndef EOS_TEST_WASI_TESTUTIL_H
#define EOS_TEST_WASI_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eos/apps.h"
#include "eos/kv.h"
#include "eos/wasi.h"

typedef struct wt_response {
    int head_calls;
    uint16_t status;
    char headers[4096]; /* "name: value\n" lines */
    uint8_t *body;      /* kept when keep_body */
    size_t body_size, body_cap;
    bool keep_body;
    int end_calls;
    bool complete;
    size_t max_chunk;
} wt_response;

/* A sink writing into r. */
eos_wasi_sink wt_sink(wt_response *r);
void wt_response_free(wt_response *r);

/* Reads a component file and decodes it; NULL (with a message) when absent. */
eos_cm_component *wt_load(const char *path);

/* A GET request for target, no body. */
eos_wasi_request wt_get(const char *target);

/* Resident set size of this process in bytes. */
size_t wt_rss(void);

#endif
