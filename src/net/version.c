/* The layer's identity, so that tools can report what they were built with. */
#include "eos/net.h"

const char *eos_net_version(void)
{
    return "0.1.0";
}
