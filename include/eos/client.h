/* The client library: connect over TLS, speak the framed management protocol, and verify a server's attestation. */
#ifndef EOS_CLIENT_H
#define EOS_CLIENT_H

#include "eos/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The layer's version string, static storage. */
EOS_API const char *eos_client_version(void);

#ifdef __cplusplus
}
#endif
#endif
