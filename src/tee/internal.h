/* Private helpers shared by the TEE backends: small file I/O for device
 * files, AES-256-GCM sealing under a backend-provided key, and the backend
 * constructors that eos_tee_open() chooses between. */
#ifndef EOS_TEE_INTERNAL_H
#define EOS_TEE_INTERNAL_H

#include "eos/tee.h"

#define EOS_TEE__SEAL_MAGIC    "EOSSEAL1"
#define EOS_TEE__SEAL_OVERHEAD (8 + 12 + 16)

/* Reads a whole file of at most max_size bytes. Free *out with eos_free(*out, *out_size). */
int eos_tee__read_file(const char *path, size_t max_size, uint8_t **out, size_t *out_size,
                       eos_diag *diag);
/* Writes data to an existing (device) file or creates a regular one; borrows all. */
int eos_tee__write_file(const char *path, const uint8_t *data, size_t size, eos_diag *diag);
/* Joins dir and name into a newly allocated path; free with eos_free(p, strlen(p) + 1). */
char *eos_tee__path(const char *dir, const char *name);

/* Seals with a key derived from raw_key (any length) for the backend named
 * backend; label is bound as associated data. Borrows inputs; *out is freed
 * with eos_free(*out, *out_size). */
int eos_tee__seal_with_key(const uint8_t *raw_key, size_t raw_key_size, const char *backend,
                           const char *label, const uint8_t *plain, size_t plain_size,
                           uint8_t **out, size_t *out_size, eos_diag *diag);
int eos_tee__unseal_with_key(const uint8_t *raw_key, size_t raw_key_size, const char *backend,
                             const char *label, const uint8_t *sealed, size_t sealed_size,
                             uint8_t **out, size_t *out_size, eos_diag *diag);

/* Backend constructors; each returns 0 and a new eos_tee or an error with diag. */
int eos_tee__open_sim(const eos_tee_config *cfg, eos_tee **out, eos_diag *diag);
int eos_tee__open_sgx(const eos_tee_config *cfg, eos_tee **out, eos_diag *diag);
/* want is "tdx", "sev-snp" or NULL (take whatever provider the device reports). */
int eos_tee__open_tsm(const eos_tee_config *cfg, const char *want, eos_tee **out, eos_diag *diag);

static inline uint16_t eos_tee__le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t eos_tee__le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t eos_tee__le64(const uint8_t *p)
{
    return (uint64_t)eos_tee__le32(p) | (uint64_t)eos_tee__le32(p + 4) << 32;
}

#endif
