/* The layer's identity, so that tools can report what they were built with. */
#include "eos/apps.h"

const char *eos_apps_version(void)
{
    return "0.1.0";
}
