#include "harness.h"
int main(void) { return eos_test_finish(); }
