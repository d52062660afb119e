/* Parsers for the evidence a verifier meets: SGX DCAP quote v3, TDX DCAP
 * quote v4 and v5, the SEV-SNP attestation report and the simulation's own
 * format. They only read within bounds and fill pointers into the input;
 * every length comes from the input and is checked before use. */
#include <string.h>

#include "internal.h"

#define HDR        48
#define SGX_BODY   384
#define TDX10_BODY 584
#define TDX15_BODY 648
#define SNP_SIZE   0x4A0

static int bad(eos_diag *d, size_t off, const char *what)
{
    return eos_diag_set(d, EOS_EMALFORMED, "evidence", (int64_t)off, "%s", what);
}

/* The DCAP signature data after the u32 length: signature, attestation key,
 * then (v3) QE report, its signature, auth data and certification data, or
 * (v4/v5) the same wrapped in certification data of type 6. */
static int parse_sig_data(const uint8_t *q, size_t off, size_t end, int wrapped,
                          eos_tee_evidence_info *o, eos_diag *d)
{
    if (end - off < 128)
        return bad(d, off, "quote signature data is truncated");
    o->quote_sig = q + off;
    o->attest_key = q + off + 64;
    off += 128;
    if (wrapped) {
        if (end - off < 6)
            return bad(d, off, "quote certification data header is truncated");
        uint16_t type = eos_tee__le16(q + off);
        uint32_t size = eos_tee__le32(q + off + 2);
        off += 6;
        if (type != 6)
            return eos_diag_set(d, EOS_EUNSUPPORTED, "evidence", (int64_t)off - 6,
                                "quote certification data type %u is not supported (expected "
                                "6, QE report certification data)",
                                type);
        if (size != end - off)
            return bad(d, off - 4, "quote certification data size does not match the quote");
    }
    if (end - off < SGX_BODY + 64 + 2)
        return bad(d, off, "QE report in the quote is truncated");
    o->qe_report = q + off;
    o->qe_report_sig = q + off + SGX_BODY;
    off += SGX_BODY + 64;
    o->qe_auth_size = eos_tee__le16(q + off);
    off += 2;
    if (end - off < o->qe_auth_size)
        return bad(d, off, "QE authentication data is truncated");
    o->qe_auth = q + off;
    off += o->qe_auth_size;
    if (end - off < 6)
        return bad(d, off, "PCK certification data header is truncated");
    o->cert_type = eos_tee__le16(q + off);
    uint32_t size = eos_tee__le32(q + off + 2);
    off += 6;
    if (size != end - off)
        return bad(d, off - 4, "PCK certification data size does not match the quote");
    o->cert_data = q + off;
    o->cert_data_size = size;
    return 0;
}

/* Checks the header and the signature-length field that follows the body. */
static int dcap_tail(const uint8_t *q, size_t size, size_t body_end, int wrapped,
                     eos_tee_evidence_info *o, eos_diag *d)
{
    if (size < body_end + 4)
        return bad(d, size, "quote is truncated before the signature data");
    uint32_t sig_len = eos_tee__le32(q + body_end);
    if (sig_len > size - body_end - 4)
        return bad(d, body_end, "quote signature data is truncated");
    /* A quote is self-delimiting (the signature data carries its length), and
     * quotes are handed over in buffers larger than they are: zero padding
     * from a quoting library's fixed buffer, or text a transport appended.
     * Those bytes are outside every signature, so they are ignored, and their
     * count is reported (trailing_size) for callers that want to refuse them. */
    size_t end = body_end + 4 + sig_len;
    o->evidence_size = end;
    o->trailing_size = size - end;
    o->signed_data = q;
    o->signed_size = body_end;
    return parse_sig_data(q, body_end + 4, end, wrapped, o, d);
}

static int dcap_header(const uint8_t *q, size_t size, uint16_t *version, uint32_t *tee_type,
                       eos_tee_evidence_info *o, eos_diag *d)
{
    if (size < HDR)
        return bad(d, size, "quote is shorter than its 48-byte header");
    *version = eos_tee__le16(q);
    if (eos_tee__le16(q + 2) != 2)
        return eos_diag_set(d, EOS_EUNSUPPORTED, "evidence", 2,
                            "quote attestation key type %u is not supported (expected 2, "
                            "ECDSA P-256)",
                            eos_tee__le16(q + 2));
    *tee_type = eos_tee__le32(q + 4);
    o->version = *version;
    o->qe_svn = eos_tee__le16(q + 8);
    o->pce_svn = eos_tee__le16(q + 10);
    return 0;
}

int eos_tee_parse_sgx_quote(const uint8_t *q, size_t size, eos_tee_evidence_info *o, eos_diag *d)
{
    /* Set by dcap_header on success; initialised so GCC -O2 sees it. */
    uint16_t version = 0;
    uint32_t tee_type = 0;
    memset(o, 0, sizeof *o);
    int rc = dcap_header(q, size, &version, &tee_type, o, d);
    if (rc != 0)
        return rc;
    if (version != 3 || tee_type != 0)
        return eos_diag_set(d, EOS_EUNSUPPORTED, "evidence", 0,
                            "not an SGX DCAP quote v3 (version %u, TEE type 0x%x)", version,
                            tee_type);
    if (size < HDR + SGX_BODY)
        return bad(d, size, "SGX quote is truncated inside the report body");
    const uint8_t *b = q + HDR;
    o->kind = EOS_TEE_KIND_SGX;
    o->tcb = b;
    o->tcb_size = 16;
    o->attributes = eos_tee__le64(b + 48);
    o->debug = (o->attributes & 2) != 0;
    o->measurement = b + 64;
    o->measurement_size = 32;
    o->signer = b + 128;
    o->signer_size = 32;
    o->isv_prod_id = eos_tee__le16(b + 256);
    o->isv_svn = eos_tee__le16(b + 258);
    o->report_data = b + 320;
    return dcap_tail(q, size, HDR + SGX_BODY, 0, o, d);
}

int eos_tee_parse_tdx_quote(const uint8_t *q, size_t size, eos_tee_evidence_info *o, eos_diag *d)
{
    /* Set by dcap_header on success; initialised so GCC -O2 sees it. */
    uint16_t version = 0;
    uint32_t tee_type = 0;
    size_t body = HDR, body_size = TDX10_BODY;
    memset(o, 0, sizeof *o);
    int rc = dcap_header(q, size, &version, &tee_type, o, d);
    if (rc != 0)
        return rc;
    if ((version != 4 && version != 5) || tee_type != 0x81)
        return eos_diag_set(d, EOS_EUNSUPPORTED, "evidence", 0,
                            "not a TDX DCAP quote v4/v5 (version %u, TEE type 0x%x)", version,
                            tee_type);
    if (version == 5) {
        /* v5 puts a body descriptor (type, size) between header and body. */
        if (size < HDR + 6)
            return bad(d, size, "TDX quote v5 is truncated in its body descriptor");
        uint16_t type = eos_tee__le16(q + HDR);
        uint32_t bsize = eos_tee__le32(q + HDR + 2);
        if (!((type == 2 && bsize == TDX10_BODY) || (type == 3 && bsize == TDX15_BODY)))
            return eos_diag_set(d, EOS_EUNSUPPORTED, "evidence", HDR,
                                "TDX quote v5 body type %u of %u bytes is not supported", type,
                                bsize);
        body = HDR + 6;
        body_size = bsize;
    }
    if (size < body + body_size)
        return bad(d, size, "TDX quote is truncated inside the TD report body");
    const uint8_t *b = q + body;
    o->kind = EOS_TEE_KIND_TDX;
    o->tcb = b;
    o->tcb_size = 16;
    o->attributes = eos_tee__le64(b + 120);
    o->debug = (o->attributes & 1) != 0;
    o->measurement = b + 136;
    o->measurement_size = 48;
    o->mr_config_id = b + 184;
    for (int i = 0; i < 4; i++)
        o->rtmr[i] = b + 328 + 48 * i;
    o->report_data = b + 520;
    return dcap_tail(q, size, body + body_size, 1, o, d);
}

int eos_tee_parse_snp_report(const uint8_t *r, size_t size, eos_tee_evidence_info *o, eos_diag *d)
{
    memset(o, 0, sizeof *o);
    if (size != SNP_SIZE)
        return bad(d, size < SNP_SIZE ? size : SNP_SIZE,
                   "an SEV-SNP attestation report is exactly 1184 bytes");
    uint32_t version = eos_tee__le32(r);
    if (version < 2 || version > 5)
        return eos_diag_set(d, EOS_EUNSUPPORTED, "evidence", 0,
                            "SEV-SNP report version %u is not supported", version);
    if (eos_tee__le32(r + 0x34) != 1)
        return eos_diag_set(d, EOS_EUNSUPPORTED, "evidence", 0x34,
                            "SEV-SNP signature algorithm %u is not supported (expected 1, ECDSA "
                            "P-384 with SHA-384)",
                            eos_tee__le32(r + 0x34));
    o->kind = EOS_TEE_KIND_SEV_SNP;
    o->version = (uint16_t)version;
    o->guest_svn = eos_tee__le32(r + 4);
    o->attributes = eos_tee__le64(r + 8);
    o->debug = (o->attributes >> 19 & 1) != 0;
    o->vmpl = eos_tee__le32(r + 0x30);
    o->report_data = r + 0x50;
    o->measurement = r + 0x90;
    o->measurement_size = 48;
    o->host_data = r + 0xC0;
    o->signer = r + 0x110;
    o->signer_size = 48;
    o->tcb = r + 0x180;
    o->tcb_size = 8;
    o->chip_id = r + 0x1A0;
    o->current_tcb = r + 0x38;
    o->committed_tcb = r + 0x1E0;
    o->launch_tcb = r + 0x1F8;
    /* CPUID family and model exist from version 3 on; 0 means unknown. */
    if (version >= 3) {
        o->cpuid_family = r[0x188];
        o->cpuid_model = r[0x189];
    }
    o->evidence_size = SNP_SIZE;
    o->signed_data = r;
    o->signed_size = 0x2A0;
    return 0;
}

int eos_tee_parse_sim(const uint8_t *e, size_t size, eos_tee_evidence_info *o, eos_diag *d)
{
    memset(o, 0, sizeof *o);
    size_t want = EOS_TEE_MOCK_PREFIX_SIZE + 64 + EOS_TEE_SIM_REPORT_SIZE;
    if (size < EOS_TEE_MOCK_PREFIX_SIZE ||
        memcmp(e, EOS_TEE_MOCK_PREFIX, EOS_TEE_MOCK_PREFIX_SIZE) != 0)
        return bad(d, 0, "simulated evidence does not start with MOCK_QUOTE:");
    if (size != want)
        return bad(d, size < want ? size : want, "simulated evidence must be 203 bytes");
    const uint8_t *r = e + 75;
    if (memcmp(r, "EOSSIM01", 8) != 0 || eos_tee__le16(r + 8) != 1)
        return bad(d, 75, "simulated report has an unknown magic or version");
    if ((eos_tee__le16(r + 10) & 1) == 0)
        return bad(d, 85, "simulated report lacks its simulated flag");
    if (eos_tee__le32(r + 12) != 32)
        return bad(d, 87, "simulated report measurement size must be 32");
    if (r[31] != 0 || memcmp(r + 64, EOS_TEE_SIM_MARKER, sizeof EOS_TEE_SIM_MARKER - 1) != 0)
        return bad(d, 139, "simulated report lacks its marker");
    o->kind = EOS_TEE_KIND_SIM;
    o->version = 1;
    o->evidence_size = want;
    o->simulated = 1;
    o->report_data = e + 11;
    o->measurement = r + 32;
    o->measurement_size = 32;
    memcpy(o->tee_name, r + 16, 16);
    o->tee_name[16] = '\0';
    return 0;
}

int eos_tee_parse_evidence(const uint8_t *e, size_t size, eos_tee_evidence_info *o, eos_diag *d)
{
    memset(o, 0, sizeof *o);
    if (size >= EOS_TEE_MOCK_PREFIX_SIZE &&
        memcmp(e, EOS_TEE_MOCK_PREFIX, EOS_TEE_MOCK_PREFIX_SIZE) == 0)
        return eos_tee_parse_sim(e, size, o, d);
    if (size >= 8) {
        uint16_t version = eos_tee__le16(e);
        uint16_t key_type = eos_tee__le16(e + 2);
        uint32_t tee_type = eos_tee__le32(e + 4);
        /* An SNP report opens with a u32 version of 2..5 followed by the u32
         * GUEST_SVN, so its bytes 0..7 can equal a DCAP header's version and
         * TEE type (v3 with GUEST_SVN 0 looks like SGX, v4 with 0x81 like
         * TDX). The DCAP attestation key type at offset 2 (2 = ECDSA P-256,
         * 3 = P-384) is the upper half of the SNP version, always 0, so it
         * tells the two apart. */
        if (key_type == 0) {
            uint32_t v32 = eos_tee__le32(e);
            if (v32 >= 2 && v32 <= 5)
                return eos_tee_parse_snp_report(e, size, o, d);
        } else if (version == 3 && tee_type == 0) {
            return eos_tee_parse_sgx_quote(e, size, o, d);
        } else if ((version == 4 || version == 5) && tee_type == 0x81) {
            return eos_tee_parse_tdx_quote(e, size, o, d);
        }
    }
    return eos_diag_set(d, EOS_EUNSUPPORTED, "evidence", 0,
                        "evidence is neither an SGX/TDX DCAP quote, an SEV-SNP report nor "
                        "simulated evidence");
}
