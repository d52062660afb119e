/* The dot product kernel built with -msimd128 (see dot.c and run.sh). */
#include "dot.c"
