/* The hardware side of verification, shared by certificate and bare
 * evidence checks: DCAP signatures and PCK chain or the SEV-SNP signature
 * and VCEK chain, all at the verification time, then the TCB status from
 * vendor collateral and the required level. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "internal.h"

static int fail(eos_ratls_verify_result *r, eos_ratls_step step, eos_diag *d, const char *msg)
{
    r->failed_step = step;
    return eos_diag_set(d, EOS_EVERIFY, eos_ratls_step_name(step), -1, "%s", msg);
}

static int dcap(const eos_tee_evidence_info *info, const eos_ratls_verify_opts *o,
                eos_ratls_verify_result *r, eos_diag *d)
{
    eos_ratls__collateral c;
    eos_ratls__dcap_ctx ctx;
    X509 *pck = NULL;
    eos_diag qd;
    int rc;
    memset(&c, 0, sizeof c);
    memset(&ctx, 0, sizeof ctx);
    eos_diag_init(&qd);
    if ((rc = eos_ratls__load_certs_file(o->sgx_root_ca_file, &ctx.anchors, &qd)) != 0) {
        r->quote_signature = -1;
        rc = fail(r, EOS_RATLS_STEP_QUOTE_SIGNATURE, d, qd.message);
        goto out;
    }
    if (o->collateral_dir &&
        (rc = eos_ratls__collateral_load(o->collateral_dir, info->kind, &c, &qd)) != 0) {
        rc = rc == EOS_ENOMEM ? rc : fail(r, EOS_RATLS_STEP_TCB, d, qd.message);
        goto out;
    }
    /* A PCK chain given as collateral is the one the user chose: it wins over
     * the quote's own (both must lead to the anchor). */
    ctx.pck_chain = c.pck_chain;
    ctx.crls = c.crls;
    ctx.now = o->now;
    rc = eos_ratls__dcap_verify(info, &ctx, &pck, &qd);
    if (rc == EOS_EPERM) {
        /* Signatures hold but Intel revoked the PCK certificate. */
        r->quote_signature = 1;
        r->tcb_status = EOS_RATLS_TCB_REVOKED;
        snprintf(r->tcb_detail, sizeof r->tcb_detail, "%.200s", qd.message);
        rc = fail(r, EOS_RATLS_STEP_TCB, d, qd.message);
        goto out;
    }
    if (rc != 0) {
        r->quote_signature = -1;
        rc = rc == EOS_ENOMEM ? rc : fail(r, EOS_RATLS_STEP_QUOTE_SIGNATURE, d, qd.message);
        goto out;
    }
    r->quote_signature = 1;
    if (o->collateral_dir &&
        (rc = eos_ratls__intel_tcb(info, pck, &c, ctx.anchors, o->now, r, &qd)) != 0)
        rc = rc == EOS_ENOMEM ? rc : fail(r, EOS_RATLS_STEP_TCB, d, qd.message);
out:
    X509_free(pck);
    sk_X509_pop_free(ctx.anchors, X509_free);
    eos_ratls__collateral_free(&c);
    return rc;
}

static int snp(const eos_tee_evidence_info *info, const eos_ratls_verify_opts *o,
               eos_ratls_verify_result *r, eos_diag *d)
{
    eos_ratls__collateral c;
    eos_ratls__snp_ctx ctx;
    STACK_OF(X509) *vcek = NULL;
    eos_diag qd;
    int rc;
    memset(&c, 0, sizeof c);
    memset(&ctx, 0, sizeof ctx);
    eos_diag_init(&qd);
    if (o->collateral_dir &&
        (rc = eos_ratls__collateral_load(o->collateral_dir, info->kind, &c, &qd)) != 0) {
        rc = rc == EOS_ENOMEM ? rc : fail(r, EOS_RATLS_STEP_TCB, d, qd.message);
        goto out;
    }
    if (o->snp_vcek_file) {
        if ((rc = eos_ratls__load_certs_file(o->snp_vcek_file, &vcek, &qd)) != 0) {
            r->quote_signature = -1;
            rc = rc == EOS_ENOMEM ? rc : fail(r, EOS_RATLS_STEP_QUOTE_SIGNATURE, d, qd.message);
            goto out;
        }
        ctx.cert = sk_X509_value(vcek, 0);
    } else {
        ctx.cert = c.vcek;
    }
    if (o->snp_ca_file && (rc = eos_ratls__load_certs_file(o->snp_ca_file, &ctx.anchors, &qd))) {
        r->quote_signature = -1;
        rc = rc == EOS_ENOMEM ? rc : fail(r, EOS_RATLS_STEP_QUOTE_SIGNATURE, d, qd.message);
        goto out;
    }
    ctx.crls = c.crls;
    ctx.now = o->now;
    ctx.min_set = c.snp_min_set;
    ctx.min = c.snp_min;
    rc = eos_ratls__snp_verify(info, &ctx, &qd);
    if (rc == EOS_EPERM) {
        r->quote_signature = 1;
        r->tcb_status = EOS_RATLS_TCB_REVOKED;
        snprintf(r->tcb_detail, sizeof r->tcb_detail, "%.200s", qd.message);
        rc = fail(r, EOS_RATLS_STEP_TCB, d, qd.message);
        goto out;
    }
    if (rc != 0) {
        r->quote_signature = -1;
        rc = rc == EOS_ENOMEM ? rc : fail(r, EOS_RATLS_STEP_QUOTE_SIGNATURE, d, qd.message);
        goto out;
    }
    r->quote_signature = 1;
    if (o->collateral_dir && !ctx.anchors) {
        /* A TCB status from an unchained VCEK would be anyone's claim. */
        rc = fail(r, EOS_RATLS_STEP_TCB, d,
                  "TCB evaluation needs the VCEK chained to AMD's ARK: pass --snp-ca");
        goto out;
    }
    if (o->collateral_dir && (rc = eos_ratls__snp_tcb_status(info, &ctx, r, &qd)) != 0)
        rc = rc == EOS_ENOMEM ? rc : fail(r, EOS_RATLS_STEP_TCB, d, qd.message);
out:
    sk_X509_pop_free(vcek, X509_free);
    sk_X509_pop_free(ctx.anchors, X509_free);
    eos_ratls__collateral_free(&c);
    return rc;
}

int eos_ratls__check_hardware(const eos_tee_evidence_info *info, const eos_ratls_verify_opts *o,
                              eos_ratls_verify_result *r, eos_diag *d)
{
    int rc = 0;
    int dcap_kind = info->kind == EOS_TEE_KIND_SGX || info->kind == EOS_TEE_KIND_TDX;
    if (dcap_kind && o->sgx_root_ca_file)
        rc = dcap(info, o, r, d);
    else if (info->kind == EOS_TEE_KIND_SEV_SNP && (o->snp_vcek_file || o->collateral_dir))
        rc = snp(info, o, r, d);
    else if (o->collateral_dir && dcap_kind)
        return fail(r, EOS_RATLS_STEP_TCB, d,
                    "TCB evaluation needs the PCK chain checked: pass --sgx-root-ca");
    if (rc != 0)
        return rc;
    if (o->require_tcb != EOS_RATLS_TCB_UNKNOWN && r->tcb_status == EOS_RATLS_TCB_UNKNOWN)
        return fail(r, EOS_RATLS_STEP_TCB, d,
                    "a TCB level is required but none was evaluated: pass --collateral");
    if (r->tcb_status == EOS_RATLS_TCB_REVOKED ||
        (o->require_tcb != EOS_RATLS_TCB_UNKNOWN && r->tcb_status > o->require_tcb)) {
        char msg[400];
        snprintf(msg, sizeof msg, "the platform's TCB status is %s%s%s (%s)",
                 eos_ratls_tcb_status_name(r->tcb_status),
                 o->require_tcb != EOS_RATLS_TCB_UNKNOWN ? ", worse than the required " : "",
                 o->require_tcb != EOS_RATLS_TCB_UNKNOWN ? eos_ratls_tcb_status_name(o->require_tcb)
                                                         : "",
                 r->tcb_detail);
        return fail(r, EOS_RATLS_STEP_TCB, d, msg);
    }
    return 0;
}

int eos_ratls_verify_evidence(const uint8_t *ev, size_t size, const uint8_t *expect_report_data,
                              const eos_ratls_verify_opts *o, eos_ratls_verify_result *r,
                              eos_diag *d)
{
    eos_tee_evidence_info info;
    eos_diag pd;
    char msg[600];
    memset(r, 0, sizeof *r);
    eos_diag_init(&pd);
    if (eos_tee_parse_evidence(ev, size, &info, &pd) != 0) {
        snprintf(msg, sizeof msg, "evidence: %s (at byte %lld)", pd.message, (long long)pd.offset);
        return fail(r, EOS_RATLS_STEP_EVIDENCE_PARSE, d, msg);
    }
    r->kind = info.kind;
    r->simulated = info.simulated;
    r->debug = info.debug;
    memcpy(r->tee_name, info.tee_name, sizeof r->tee_name);
    memcpy(r->measurement, info.measurement, info.measurement_size);
    r->measurement_size = info.measurement_size;
    memcpy(r->report_data, info.report_data, 64);
    if (info.simulated && !o->allow_simulated)
        return fail(r, EOS_RATLS_STEP_SIMULATED, d,
                    "the evidence is SIMULATED: nothing is hardware-protected");
    if (info.debug && !o->allow_debug)
        return fail(r, EOS_RATLS_STEP_DEBUG, d,
                    "the TEE runs in debug mode, so its memory is readable by the host");
    int rc = eos_ratls__check_hardware(&info, o, r, d);
    if (rc != 0)
        return rc;
    if (!info.simulated && r->quote_signature != 1)
        return fail(r, EOS_RATLS_STEP_QUOTE_SIGNATURE, d,
                    info.kind == EOS_TEE_KIND_SEV_SNP
                        ? "bare SEV-SNP evidence needs its signature checked: pass --snp-vcek"
                        : "bare DCAP evidence needs its signature checked: pass --sgx-root-ca");
    if (expect_report_data && memcmp(expect_report_data, info.report_data, 64) != 0)
        return fail(r, EOS_RATLS_STEP_REPORT_DATA, d,
                    "the evidence's report data is not the expected one");
    if (o->expect_measurement &&
        (o->expect_measurement_size != r->measurement_size ||
         memcmp(o->expect_measurement, r->measurement, r->measurement_size) != 0))
        return fail(r, EOS_RATLS_STEP_MEASUREMENT, d,
                    "the measurement is not the expected one: other code runs in the TEE");
    return 0;
}
