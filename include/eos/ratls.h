/* RA-TLS: certificates that carry TEE evidence and configuration extensions, the configuration Merkle tree, and the server-side certificate manager. */
#ifndef EOS_RATLS_H
#define EOS_RATLS_H

#include "eos/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The layer's version string, static storage. */
EOS_API const char *eos_ratls_version(void);

#ifdef __cplusplus
}
#endif
#endif
