/* The layer's identity, so that tools can report what they were built with. */
#include "eos/wasi.h"

const char *eos_wasi_version(void)
{
    return "0.1.0";
}
