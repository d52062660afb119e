/* The WASI 0.2 host: the interfaces apps import (io, http, keyvalue, filesystem, clocks, random, logging, cli), implemented on the component model host API. */
#ifndef EOS_WASI_H
#define EOS_WASI_H

#include "eos/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The layer's version string, static storage. */
EOS_API const char *eos_wasi_version(void);

#ifdef __cplusplus
}
#endif
#endif
