/* The layer's identity, so that tools can report what they were built with. */
#include "eos/ratls.h"

const char *eos_ratls_version(void)
{
    return "0.1.0";
}
