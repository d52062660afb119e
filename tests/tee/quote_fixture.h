/* Test fixtures built from the documented layouts (Intel SGX/TDX DCAP quote
 * formats v3/v4/v5, AMD SEV-SNP ABI attestation report): no real quotes are
 * published in a form we can embed, so these are made here, with real ECDSA
 * signatures and a throwaway PCK chain so the offline DCAP checks run. */
#ifndef EOS_TEST_QUOTE_FIXTURE_H
#define EOS_TEST_QUOTE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* A throwaway "Intel root" and PCK certificate; root_pem is written to
 * root_path when it is not NULL. Free with fixture_pck_free(). */
typedef struct fixture_pck {
    EVP_PKEY *root_key, *pck_key;
    char *chain_pem; /* PCK certificate then root, PEM, NUL-terminated (malloc) */
    size_t chain_size;
} fixture_pck;

int fixture_pck_new(fixture_pck *out, const char *root_path);
void fixture_pck_free(fixture_pck *p);

/* version 3: SGX quote; 4: TDX quote v4; 5: TDX quote v5 (body type 2).
 * Measurement bytes are fill patterns: SGX MRENCLAVE 0x22.., MRSIGNER 0x33..,
 * TDX MRTD 0x44.., RTMRn 0x50+n. *out is malloc'd. */
int fixture_quote(int version, const uint8_t rd[64], const fixture_pck *pck, int debug,
                  uint8_t **out, size_t *out_size);
/* A 1184-byte SNP report (version 2), MEASUREMENT 0x66.., HOST_DATA 0x77... */
void fixture_snp_report(const uint8_t rd[64], int debug, uint8_t out[1184]);

/* Signs an SNP report (ECDSA P-384/SHA-384, little-endian R and S at 0x2A0). */
void fixture_snp_sign(uint8_t report[1184], EVP_PKEY *p384);
/* A P-384 "ARK" self-signed and a "VCEK" signed by it; writes the VCEK (PEM)
 * to vcek_path and the ARK to ark_path. *out_vcek_key is the signing key. */
void fixture_snp_chain(const char *vcek_path, const char *ark_path, EVP_PKEY **out_vcek_key);

#endif
