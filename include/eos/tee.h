/* Trusted execution environment backends: evidence (a quote or report) over
 * 64 bytes of report data, sealing of secrets to the platform, and a
 * description of what is measured. One small vtable, one backend per file. */
#ifndef EOS_TEE_H
#define EOS_TEE_H

#include <stddef.h>
#include <stdint.h>

#include "eos/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EOS_TEE_REPORT_DATA_SIZE 64

typedef struct eos_tee eos_tee;

/* A backend. Every function borrows its inputs; buffers returned through
 * out parameters are allocated with eos_malloc and freed by the caller with
 * eos_free(ptr, size). */
typedef struct eos_tee_ops {
    const char *name; /* "sim", "sgx", "tdx", "sev-snp" */
    int (*evidence)(eos_tee *t, const uint8_t report_data[EOS_TEE_REPORT_DATA_SIZE],
                    uint8_t **out, size_t *out_size, eos_diag *diag);
    /* Seals plaintext so that only this platform (and measurement) can unseal
     * it. label names the secret's purpose and is bound as associated data. */
    int (*seal)(eos_tee *t, const char *label, const uint8_t *plain, size_t plain_size,
                uint8_t **out, size_t *out_size, eos_diag *diag);
    int (*unseal)(eos_tee *t, const char *label, const uint8_t *sealed, size_t sealed_size,
                  uint8_t **out, size_t *out_size, eos_diag *diag);
    /* The measurement of the running code (MRENCLAVE, MRTD, SNP measurement,
     * or the simulated hash of the binary); up to 64 bytes. */
    int (*measurement)(eos_tee *t, uint8_t out[64], size_t *out_size);
    void (*destroy)(eos_tee *t);
} eos_tee_ops;

/* Public for backends and test doubles; read-only for everyone else. */
struct eos_tee {
    const eos_tee_ops *ops;
    void *impl;
};

/* Where backends find their devices; NULL fields take the defaults. */
typedef struct eos_tee_config {
    const char *kind;          /* "auto", "sim", "sgx", "tdx", "sev-snp"; NULL = "auto" */
    const char *data_dir;      /* where the simulation keeps its sealing key */
    const char *sgx_dev_dir;   /* default "/dev/attestation" */
    const char *tsm_report_dir; /* default "/sys/kernel/config/tsm/report" */
} eos_tee_config;

/* Opens the configured backend. Free with eos_tee_free(). */
EOS_API int eos_tee_open(const eos_tee_config *cfg, eos_tee **out, eos_diag *diag);
/* Wraps a caller-provided backend (tests, future backends). ops and impl are
 * borrowed; ops->destroy, when set, is called by eos_tee_free(). */
EOS_API int eos_tee_new_custom(const eos_tee_ops *ops, void *impl, eos_tee **out);
EOS_API void eos_tee_free(eos_tee *t);

EOS_API const char *eos_tee_name(const eos_tee *t);
EOS_API int eos_tee_evidence(eos_tee *t, const uint8_t report_data[EOS_TEE_REPORT_DATA_SIZE],
                             uint8_t **out, size_t *out_size, eos_diag *diag);
EOS_API int eos_tee_seal(eos_tee *t, const char *label, const uint8_t *plain, size_t plain_size,
                         uint8_t **out, size_t *out_size, eos_diag *diag);
EOS_API int eos_tee_unseal(eos_tee *t, const char *label, const uint8_t *sealed,
                           size_t sealed_size, uint8_t **out, size_t *out_size, eos_diag *diag);
EOS_API int eos_tee_measurement(eos_tee *t, uint8_t out[64], size_t *out_size);

#ifdef __cplusplus
}
#endif
#endif
