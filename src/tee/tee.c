/* Backend selection (including `auto` probing) and the thin dispatch
 * through eos_tee_ops. */
#include <string.h>

#include "internal.h"

int eos_tee_new_custom(const eos_tee_ops *ops, void *impl, eos_tee **out)
{
    eos_tee *t = eos_calloc(1, sizeof *t);
    if (!t)
        return EOS_ENOMEM;
    /* A backend may leave out what it cannot do (a sealing-only test double,
     * say); the dispatchers below answer EOS_EUNSUPPORTED for those. */
    if (!ops || !ops->name) {
        eos_free(t, sizeof *t);
        return EOS_EINVAL;
    }
    t->ops = ops;
    t->impl = impl;
    *out = t;
    return 0;
}

/* `auto` looks for Gramine's SGX files, then configfs-tsm (whose provider
 * tells TDX from SEV-SNP). Finding neither is an error, never a silent fall
 * back to the simulation: an operator must ask for `sim` by name. */
static int open_auto(const eos_tee_config *cfg, eos_tee **out, eos_diag *diag)
{
    eos_diag probe;
    eos_diag_init(&probe);
    int rc = eos_tee__open_sgx(cfg, out, &probe);
    if (rc != EOS_ENOTFOUND)
        return rc == 0 ? 0 : eos_diag_set(diag, rc, probe.step, -1, "%s", probe.message);
    eos_diag_init(&probe);
    rc = eos_tee__open_tsm(cfg, NULL, out, &probe);
    if (rc != EOS_ENOTFOUND)
        return rc == 0 ? 0 : eos_diag_set(diag, rc, probe.step, -1, "%s", probe.message);
    return eos_diag_set(diag, EOS_ENOTFOUND, "tee auto", -1,
                        "no TEE found: neither %s/user_report_data (SGX under Gramine) nor %s "
                        "(TDX/SEV-SNP configfs-tsm) exists. To run without hardware protection, "
                        "pass --tee sim explicitly",
                        cfg->sgx_dev_dir ? cfg->sgx_dev_dir : "/dev/attestation",
                        cfg->tsm_report_dir ? cfg->tsm_report_dir
                                            : "/sys/kernel/config/tsm/report");
}

int eos_tee_open(const eos_tee_config *cfg, eos_tee **out, eos_diag *diag)
{
    eos_tee_config none;
    if (!cfg) {
        memset(&none, 0, sizeof none);
        cfg = &none;
    }
    const char *kind = cfg->kind ? cfg->kind : "auto";
    if (strcmp(kind, "auto") == 0)
        return open_auto(cfg, out, diag);
    if (strcmp(kind, "sim") == 0)
        return eos_tee__open_sim(cfg, out, diag);
    if (strcmp(kind, "sgx") == 0)
        return eos_tee__open_sgx(cfg, out, diag);
    if (strcmp(kind, "tdx") == 0 || strcmp(kind, "sev-snp") == 0)
        return eos_tee__open_tsm(cfg, kind, out, diag);
    return eos_diag_set(diag, EOS_EINVAL, "tee", -1,
                        "unknown TEE \"%s\": use auto, sgx, tdx, sev-snp or sim", kind);
}

void eos_tee_free(eos_tee *t)
{
    if (!t)
        return;
    if (t->ops && t->ops->destroy)
        t->ops->destroy(t);
    eos_free(t, sizeof *t);
}

/* common's table counts the kinds as eos_tee_kind does. */
_Static_assert(EOS_TEE_KIND_SIM == 1 && EOS_TEE_KIND_SGX == 2 && EOS_TEE_KIND_TDX == 3 &&
                   EOS_TEE_KIND_SEV_SNP == 4,
               "eos_evidence_kind_name numbers the kinds as eos_tee_kind does");

const char *eos_tee_kind_name(eos_tee_kind kind)
{
    const char *name = eos_evidence_kind_name((int)kind);
    return name ? name : "unknown";
}

static int unsupported(const eos_tee *t, const char *what, eos_diag *diag)
{
    return eos_diag_set(diag, EOS_EUNSUPPORTED, "tee", -1, "the %s backend does not provide %s",
                        t->ops->name, what);
}

const char *eos_tee_name(const eos_tee *t)
{
    return t->ops->name;
}

int eos_tee_evidence(eos_tee *t, const uint8_t report_data[EOS_TEE_REPORT_DATA_SIZE], uint8_t **out,
                     size_t *out_size, eos_diag *diag)
{
    if (!t->ops->evidence)
        return unsupported(t, "evidence", diag);
    return t->ops->evidence(t, report_data, out, out_size, diag);
}

int eos_tee_seal(eos_tee *t, const char *label, const uint8_t *plain, size_t plain_size,
                 uint8_t **out, size_t *out_size, eos_diag *diag)
{
    if (!t->ops->seal)
        return unsupported(t, "sealing", diag);
    return t->ops->seal(t, label, plain, plain_size, out, out_size, diag);
}

int eos_tee_unseal(eos_tee *t, const char *label, const uint8_t *sealed, size_t sealed_size,
                   uint8_t **out, size_t *out_size, eos_diag *diag)
{
    if (!t->ops->unseal)
        return unsupported(t, "unsealing", diag);
    return t->ops->unseal(t, label, sealed, sealed_size, out, out_size, diag);
}

int eos_tee_measurement(eos_tee *t, uint8_t out[64], size_t *out_size)
{
    if (!t->ops->measurement)
        return EOS_EUNSUPPORTED;
    return t->ops->measurement(t, out, out_size);
}
