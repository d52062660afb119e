/* Helpers shared by the component-model tests: loading the test components
 * the build makes under EOS_CM_APPS. */
#ifndef EOS_TEST_CM_TESTUTIL_H
#define EOS_TEST_CM_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Reads a whole file into a malloc'd buffer with a NUL byte after the last
 * one (so text files can be used as strings); free with free(). Returns NULL
 * when the file cannot be opened or read. */
uint8_t *cmt_read_file(const char *path, size_t *out_size);

#endif
