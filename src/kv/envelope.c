/* The stored-value envelope: the only parser of bytes the untrusted host
 * hands back. It checks sizes and fields only; authenticity comes from the
 * two GCM tags checked in crypto.c. */
#include <string.h>

#include "internal.h"

size_t eos_kv__envelope_size(size_t name_size, size_t value_size)
{
    if (name_size > EOS_KV_MAX_NAME_SIZE || value_size > EOS_KV_MAX_VALUE_SIZE)
        return 0;
    return EOS_KV__ENV_OVERHEAD + name_size + value_size;
}

void eos_kv__envelope_header(uint8_t *buf, size_t name_size, const uint8_t *nonces)
{
    buf[0] = EOS_KV__ENV_VERSION;
    buf[1] = 0;
    buf[2] = (uint8_t)(name_size & 0xff);
    buf[3] = (uint8_t)(name_size >> 8);
    memcpy(buf + 4, nonces, 2 * EOS_KV__NONCE_SIZE);
}

int eos_kv__envelope_parse(const uint8_t *buf, size_t size, eos_kv__envelope *out, eos_diag *diag)
{
    if (size < EOS_KV__ENV_OVERHEAD + 1)
        return eos_diag_set(diag, EOS_ECORRUPT, "envelope", 0,
                            "a stored record is %zu bytes, shorter than any valid record; "
                            "the data file was truncated or altered",
                            size);
    if (buf[0] != EOS_KV__ENV_VERSION)
        return eos_diag_set(diag, EOS_ECORRUPT, "envelope", 0,
                            "a stored record has format version %u, expected %u; the data "
                            "file was altered or written by a newer version",
                            buf[0], EOS_KV__ENV_VERSION);
    if (buf[1] != 0)
        return eos_diag_set(diag, EOS_ECORRUPT, "envelope", 1,
                            "a stored record has unknown flags 0x%02x", buf[1]);
    size_t name_size = (size_t)buf[2] | ((size_t)buf[3] << 8);
    if (name_size == 0 || name_size > EOS_KV_MAX_NAME_SIZE)
        return eos_diag_set(diag, EOS_ECORRUPT, "envelope", 2,
                            "a stored record has an invalid name size %zu", name_size);
    /* Both terms are bounded (name_size <= 4096), so the sum cannot wrap. */
    if (size < EOS_KV__ENV_OVERHEAD + name_size)
        return eos_diag_set(diag, EOS_ECORRUPT, "envelope", 2,
                            "a stored record of %zu bytes cannot hold its %zu-byte name; "
                            "the data file was truncated or altered",
                            size, name_size);
    size_t value_size = size - EOS_KV__ENV_OVERHEAD - name_size;
    if (value_size > EOS_KV_MAX_VALUE_SIZE)
        return eos_diag_set(diag, EOS_ECORRUPT, "envelope", 0,
                            "a stored record holds a %zu-byte value, above the limit", value_size);
    out->header = buf;
    out->name_nonce = buf + 4;
    out->value_nonce = buf + 4 + EOS_KV__NONCE_SIZE;
    out->name_ct = buf + EOS_KV__ENV_HEADER_SIZE;
    out->name_size = name_size;
    out->name_tag = out->name_ct + name_size;
    out->value_ct = out->name_tag + EOS_KV__TAG_SIZE;
    out->value_size = value_size;
    out->value_tag = out->value_ct + value_size;
    return 0;
}
