/* The layer's identity, so that tools can report what they were built with. */
#include "eos/proto.h"

const char *eos_proto_version(void)
{
    return "0.1.0";
}
