/* Small helpers every layer needs: hex and the monotonic clock. */
#include <time.h>

#include "eos/common.h"

void eos_hex_encode(const uint8_t *in, size_t size, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < size; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * size] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int eos_hex_decode(const char *hex, uint8_t *out, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        int hi = hex_value(hex[2 * i]);
        int lo = hi < 0 ? -1 : hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return EOS_EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return hex[2 * size] == '\0' ? 0 : EOS_EINVAL;
}

const char *eos_evidence_kind_name(int kind)
{
    static const char *const names[] = {NULL, "sim", "sgx", "tdx", "sev-snp"};
    return kind >= 0 && (size_t)kind < sizeof names / sizeof names[0] ? names[kind] : NULL;
}

uint64_t eos_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
