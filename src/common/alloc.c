/* The allocator hook: one path for every allocation so that out-of-memory is
 * handled in one way and tests can make any allocation fail. */
#include <stdlib.h>
#include <string.h>

#include "eos/common.h"

static void *default_alloc(void *ud, void *ptr, size_t old_size, size_t new_size)
{
    (void)ud;
    (void)old_size;
    if (new_size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, new_size);
}

static eos_alloc_fn alloc_fn = default_alloc;
static void *alloc_ud;

void eos_set_allocator(eos_alloc_fn fn, void *ud)
{
    alloc_fn = fn ? fn : default_alloc;
    alloc_ud = fn ? ud : NULL;
}

void *eos_malloc(size_t size)
{
    return alloc_fn(alloc_ud, NULL, 0, size ? size : 1);
}

void *eos_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    size_t total = n * size;
    void *p = eos_malloc(total);
    if (p)
        memset(p, 0, total ? total : 1);
    return p;
}

void *eos_realloc(void *ptr, size_t old_size, size_t new_size)
{
    return alloc_fn(alloc_ud, ptr, old_size, new_size ? new_size : 1);
}

void eos_free(void *ptr, size_t size)
{
    if (ptr)
        alloc_fn(alloc_ud, ptr, size, 0);
}

char *eos_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = eos_malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}
