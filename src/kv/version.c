/* The layer's identity, so that tools can report what they were built with. */
#include "eos/kv.h"

const char *eos_kv_version(void)
{
    return "0.1.0";
}
