/* The layer's identity, so that tools can report what they were built with. */
#include "eos/cm.h"

const char *eos_cm_version(void)
{
    return "0.1.0";
}
