/* The encrypted, sealed key-value store: per-namespace keys, HMAC'd key names, AES-GCM values, on LMDB behind a narrow backend interface. */
#ifndef EOS_KV_H
#define EOS_KV_H

#include "eos/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The layer's version string, static storage. */
EOS_API const char *eos_kv_version(void);

#ifdef __cplusplus
}
#endif
#endif
