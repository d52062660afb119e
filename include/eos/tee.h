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
    int (*evidence)(eos_tee *t, const uint8_t report_data[EOS_TEE_REPORT_DATA_SIZE], uint8_t **out,
                    size_t *out_size, eos_diag *diag);
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
    const char *kind;           /* "auto", "sim", "sgx", "tdx", "sev-snp"; NULL = "auto" */
    const char *data_dir;       /* where the simulation keeps its sealing key */
    const char *sgx_dev_dir;    /* default "/dev/attestation" */
    const char *tsm_report_dir; /* default "/sys/kernel/config/tsm/report" */
    const char *sev_guest_dev;  /* default "/dev/sev-guest" (SEV-SNP derived sealing key) */
    const char *sim_binary;     /* file the simulation measures; default "/proc/self/exe" */
    /* Milliseconds the configfs-tsm backend waits for outblob to appear. The
     * kernel creates it with the directory; a test directory playing the
     * device creates it a little later. 0 = 2000. */
    int tsm_wait_ms;
} eos_tee_config;

/* Opens the configured backend. Free with eos_tee_free(). */
EOS_API int eos_tee_open(const eos_tee_config *cfg, eos_tee **out, eos_diag *diag);
/* Wraps a caller-provided backend (tests, future backends). ops and impl are
 * borrowed; ops->destroy, when set, is called by eos_tee_free(). */
EOS_API int eos_tee_new_custom(const eos_tee_ops *ops, void *impl, eos_tee **out);
/* Closes the backend (takes ownership); NULL is allowed. */
EOS_API void eos_tee_free(eos_tee *t);

/* The calls below dispatch to the backend's ops (see eos_tee_ops) and borrow
 * every argument. */
/* The backend's name ("sim", "sgx", ...), static storage. */
EOS_API const char *eos_tee_name(const eos_tee *t);
/* Evidence over report_data; *out is allocated: free with
 * eos_free(*out, *out_size). */
EOS_API int eos_tee_evidence(eos_tee *t, const uint8_t report_data[EOS_TEE_REPORT_DATA_SIZE],
                             uint8_t **out, size_t *out_size, eos_diag *diag);
/* Seal and unseal under label; *out is allocated: free with
 * eos_free(*out, *out_size). */
EOS_API int eos_tee_seal(eos_tee *t, const char *label, const uint8_t *plain, size_t plain_size,
                         uint8_t **out, size_t *out_size, eos_diag *diag);
EOS_API int eos_tee_unseal(eos_tee *t, const char *label, const uint8_t *sealed, size_t sealed_size,
                           uint8_t **out, size_t *out_size, eos_diag *diag);
/* Copies the running code's measurement into out; *out_size its length. */
EOS_API int eos_tee_measurement(eos_tee *t, uint8_t out[64], size_t *out_size);

/* The simulated report that follows `MOCK_QUOTE:` and the 64 bytes of report
 * data in simulated evidence (all integers little endian):
 *   0  8  magic "EOSSIM01"
 *   8  2  version = 1
 *  10  2  flags, bit 0 = simulated (always set)
 *  12  4  measurement size in bytes (32)
 *  16 16  TEE name, NUL padded ("sim")
 *  32 32  measurement: SHA-256 of the running binary
 *  64 64  marker, NUL padded: "SIMULATED TEE - NO HARDWARE PROTECTION"
 * Simulated evidence is therefore 11 + 64 + 128 = 203 bytes. */
#define EOS_TEE_MOCK_PREFIX      "MOCK_QUOTE:"
#define EOS_TEE_MOCK_PREFIX_SIZE 11
#define EOS_TEE_SIM_REPORT_SIZE  128
#define EOS_TEE_SIM_MARKER       "SIMULATED TEE - NO HARDWARE PROTECTION"

/* What kind of evidence a byte string is. */
typedef enum eos_tee_kind {
    EOS_TEE_KIND_UNKNOWN = 0,
    EOS_TEE_KIND_SIM = 1,     /* MOCK_QUOTE: simulated evidence */
    EOS_TEE_KIND_SGX = 2,     /* SGX DCAP quote v3 */
    EOS_TEE_KIND_TDX = 3,     /* TDX DCAP quote v4 or v5 */
    EOS_TEE_KIND_SEV_SNP = 4, /* SEV-SNP attestation report */
} eos_tee_kind;

/* The fields of parsed evidence a verifier checks. Pointers point into the
 * evidence buffer passed to eos_tee_parse_evidence() (borrowed from it: valid
 * while it is). Sizes of absent fields are 0. */
typedef struct eos_tee_evidence_info {
    eos_tee_kind kind;
    uint16_t version;           /* quote / report format version (sim: 1) */
    int debug;                  /* 1 when the TEE runs in debug mode (not confidential) */
    int simulated;              /* 1 for simulated evidence */
    const uint8_t *report_data; /* always 64 bytes */
    /* Primary measurement: MRENCLAVE (32), MRTD (48), SNP MEASUREMENT (48), sim (32). */
    const uint8_t *measurement;
    size_t measurement_size;
    /* Signer: MRSIGNER (SGX, 32); SNP: author key digest (48); absent otherwise. */
    const uint8_t *signer;
    size_t signer_size;
    const uint8_t *rtmr[4];      /* TDX runtime measurement registers, 48 bytes each */
    const uint8_t *mr_config_id; /* TDX MRCONFIGID (48) */
    const uint8_t *host_data;    /* SNP HOST_DATA (32) */
    const uint8_t *tcb;          /* SGX CPUSVN / TDX TEE_TCB_SVN (16); SNP: REPORTED_TCB (8) */
    size_t tcb_size;
    uint16_t isv_prod_id, isv_svn; /* SGX */
    uint16_t qe_svn, pce_svn;      /* DCAP header */
    uint64_t attributes;           /* SGX ATTRIBUTES.FLAGS / TDX TD_ATTRIBUTES / SNP POLICY */
    uint32_t guest_svn, vmpl;      /* SNP */
    char tee_name[17];             /* sim: the TEE name in the simulated report */
    /* DCAP quotes (SGX v3, TDX v4/v5): the region the attestation key signs
     * (header and body), and the parts of the signature data. */
    const uint8_t *signed_data;
    size_t signed_size;
    const uint8_t *quote_sig;     /* 64 bytes, r || s (big endian) */
    const uint8_t *attest_key;    /* 64 bytes, x || y of the P-256 attestation key */
    const uint8_t *qe_report;     /* 384-byte SGX report body of the quoting enclave */
    const uint8_t *qe_report_sig; /* 64 bytes, signed by the PCK key */
    const uint8_t *qe_auth;       /* QE authentication data */
    size_t qe_auth_size;
    uint16_t cert_type; /* certification data type; 5 = PCK chain (PEM) */
    const uint8_t *cert_data;
    size_t cert_data_size;
    /* SEV-SNP: CHIP_ID (64 bytes), and the CURRENT, COMMITTED and LAUNCH TCB
     * (8 bytes each); CPUID family and model from report version 3 (else 0). */
    const uint8_t *chip_id;
    const uint8_t *current_tcb, *committed_tcb, *launch_tcb;
    uint8_t cpuid_family, cpuid_model;
    /* Bytes the evidence itself occupies, and how many bytes followed it in
     * the buffer. A DCAP quote is self-delimiting; whatever follows it (zero
     * padding, appended text) lies outside every signature and is ignored.
     * Callers that want exact evidence refuse trailing_size != 0. */
    size_t evidence_size;
    size_t trailing_size;
} eos_tee_evidence_info;

/* Parses evidence of any supported kind (detected from its bytes) and fills
 * out. Borrows evidence: out points into it. Bytes after a DCAP quote are
 * ignored and counted in out->trailing_size (see there); an SEV-SNP report
 * and simulated evidence have exact sizes. Returns 0, or EOS_EMALFORMED with
 * diag naming the field and byte offset for truncated or malformed input,
 * EOS_EUNSUPPORTED for an unknown format or version. */
EOS_API int eos_tee_parse_evidence(const uint8_t *evidence, size_t size, eos_tee_evidence_info *out,
                                   eos_diag *diag);
/* The individual parsers (same contract; the kind is not guessed). */
EOS_API int eos_tee_parse_sim(const uint8_t *ev, size_t size, eos_tee_evidence_info *out,
                              eos_diag *diag);
EOS_API int eos_tee_parse_sgx_quote(const uint8_t *ev, size_t size, eos_tee_evidence_info *out,
                                    eos_diag *diag);
EOS_API int eos_tee_parse_tdx_quote(const uint8_t *ev, size_t size, eos_tee_evidence_info *out,
                                    eos_diag *diag);
EOS_API int eos_tee_parse_snp_report(const uint8_t *ev, size_t size, eos_tee_evidence_info *out,
                                     eos_diag *diag);
/* "sim", "sgx", "tdx", "sev-snp" or "unknown"; static storage. */
EOS_API const char *eos_tee_kind_name(eos_tee_kind kind);

#ifdef __cplusplus
}
#endif
#endif
