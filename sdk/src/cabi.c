/* The memory allocator the host uses to hand strings and lists to the app
 * (cabi_realloc, required by the canonical ABI), the SDK's error strings, and small
 * helpers shared by the other files. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The host calls this to allocate (old == NULL) guest memory for the strings and
 * lists it returns; the SDK frees them with free(). Alignment is at most 8 in the
 * canonical ABI, which malloc already gives for 8; larger requests go to
 * aligned_alloc. A zero-size allocation needs no memory, only an aligned address. */
static void *land_ptr;
static size_t land_cap;

void eos__land_in(void *buf, size_t cap)
{
    land_ptr = buf;
    land_cap = cap;
}

__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *old, size_t old_size,
                                                                size_t align, size_t new_size)
{
    (void)old_size;
    if (new_size == 0)
        return (void *)align;
    if (land_ptr && !old && align == 1 && new_size <= land_cap) {
        /* The bytes go straight into the caller's buffer: no copy in the
         * guest, where a copy runs as interpreted code. */
        void *p = land_ptr;
        land_ptr = NULL;
        return p;
    }
    void *p;
    if (align <= 8) {
        p = realloc(old, new_size);
    } else {
        p = aligned_alloc(align, (new_size + align - 1) / align * align);
        if (p && old) {
            memcpy(p, old, old_size < new_size ? old_size : new_size);
            free(old);
        }
    }
    /* The canonical ABI has no way to report failure: trapping is the only answer. */
    if (!p)
        __builtin_trap();
    return p;
}

static char detail[256];

const char *eos_app_strerror(int err)
{
    switch (err) {
#define EOS_APP__CASE(name, value, text)                                                           \
    case value:                                                                                    \
        return text;
        EOS_APP_ERRORS(EOS_APP__CASE)
#undef EOS_APP__CASE
    }
    return "unknown error";
}

const char *eos_app_error_detail(void)
{
    return detail;
}

/* Records the host's description of a failure for eos_app_error_detail(). */
static void set_detail(const uint8_t *s, size_t len)
{
    if (len >= sizeof detail)
        len = sizeof detail - 1;
    memcpy(detail, s, len);
    detail[len] = '\0';
}

int eos__stream_error(const uint8_t *p)
{
    if (p[0] == 1)
        return EOS_APP_ECLOSED;
    eos__handle err = (eos__handle)eos__u32(p + 4);
    _Alignas(4) uint8_t ret[8];
    eos__io_error_to_debug_string(err, ret);
    eos__bytes s = eos__list(ret);
    set_detail(s.ptr, s.len);
    eos__release(s.ptr, s.len);
    eos__io_error_drop(err);
    return EOS_APP_EIO;
}

int eos__store_error(const uint8_t *p)
{
    switch (p[0]) {
    case 0:
        return EOS_APP_ENOSTORE;
    case 1:
        return EOS_APP_EACCESS;
    default: {
        eos__bytes s = eos__list(p + 4);
        set_detail(s.ptr, s.len);
        eos__release(s.ptr, s.len);
        return EOS_APP_ESTORE;
    }
    }
}

char *eos__take_string(eos__bytes b)
{
    char *s = malloc(b.len + 1);
    if (s) {
        memcpy(s, b.ptr, b.len);
        s[b.len] = '\0';
    }
    eos__release(b.ptr, b.len);
    return s;
}
