/* The enclave-os C guest SDK: write a WebAssembly component for enclave-os in C.
 * Include this one header; it brings the HTTP handler API (eos_http.h), outgoing
 * HTTP calls (eos_outgoing.h), the encrypted key-value store (eos_keyvalue.h), logging (eos_log.h) and random
 * bytes, clocks and environment (eos_sys.h). Files work through ordinary stdio. */
#ifndef EOS_APP_H
#define EOS_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the WASI 0.2 interfaces the SDK's imports name (any 0.2.x host serves
 * them) and of the SDK itself. */
#define EOS_APP_WASI_VERSION "0.2.12"
#define EOS_APP_SDK_VERSION  "0.1.0"

/* SDK results: 0 is success, negative values are errors from this table. */
#define EOS_APP_ERRORS(X)                                                                          \
    X(OK, 0, "success")                                                                            \
    X(ENOMEM, -1, "out of memory")                                                                 \
    X(EIO, -2, "the host reported an I/O error on the stream")                                     \
    X(ECLOSED, -3, "the stream is closed")                                                         \
    X(EINVAL, -4, "invalid argument")                                                              \
    X(ESTATE, -5, "call out of order (e.g. a header after the response started)")                  \
    X(ENOTFOUND, -6, "no such key")                                                                \
    X(ENOSTORE, -7, "the host has no such key-value store")                                        \
    X(EACCESS, -8, "access to the store was denied")                                               \
    X(ESTORE, -9, "the store failed (see eos_app_error_detail())")                                 \
    X(ECONFLICT, -10, "the value changed since it was read (compare-and-swap)")                    \
    X(ETOOBIG, -11, "the data is larger than the limit given")                                     \
    X(EHOST, -12, "the host refused the call")                                                     \
    X(EHTTP, -13, "the outgoing HTTP call failed (see eos_outgoing_error())")

enum eos_app_err {
#define EOS_APP__ENUM(name, value, text) EOS_APP_##name = value,
    EOS_APP_ERRORS(EOS_APP__ENUM)
#undef EOS_APP__ENUM
};

/* A static English description of an SDK result. */
const char *eos_app_strerror(int err);
/* Detail of the last EOS_APP_ESTORE / EOS_APP_EIO error as the host described it, or
 * "" (a static buffer, valid until the next SDK call that fails). */
const char *eos_app_error_detail(void);

#ifdef __cplusplus
}
#endif

#include "eos_http.h"
#include "eos_keyvalue.h"
#include "eos_log.h"
#include "eos_outgoing.h"
#include "eos_sys.h"

#endif
