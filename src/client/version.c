/* The layer's identity, so that tools can report what they were built with. */
#include "eos/client.h"

const char *eos_client_version(void)
{
    return "0.1.0";
}
