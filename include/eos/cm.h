/* The component model: decode, validate, link and instantiate components, and the canonical ABI that moves values between host and guest. */
#ifndef EOS_CM_H
#define EOS_CM_H

#include "eos/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The layer's version string, static storage. */
EOS_API const char *eos_cm_version(void);

#ifdef __cplusplus
}
#endif
#endif
