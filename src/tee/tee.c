/* Backend selection and the thin dispatch through eos_tee_ops. */
#include <string.h>

#include "eos/tee.h"

int eos_tee_new_custom(const eos_tee_ops *ops, void *impl, eos_tee **out)
{
    eos_tee *t = eos_calloc(1, sizeof *t);
    if (!t)
        return EOS_ENOMEM;
    t->ops = ops;
    t->impl = impl;
    *out = t;
    return 0;
}

int eos_tee_open(const eos_tee_config *cfg, eos_tee **out, eos_diag *diag)
{
    (void)cfg;
    (void)out;
    return eos_diag_set(diag, EOS_EUNAVAILABLE, "tee", -1,
                        "TEE backends are not available yet in this version");
}

void eos_tee_free(eos_tee *t)
{
    if (!t)
        return;
    if (t->ops && t->ops->destroy)
        t->ops->destroy(t);
    eos_free(t, sizeof *t);
}

const char *eos_tee_name(const eos_tee *t)
{
    return t->ops->name;
}

int eos_tee_evidence(eos_tee *t, const uint8_t report_data[EOS_TEE_REPORT_DATA_SIZE],
                     uint8_t **out, size_t *out_size, eos_diag *diag)
{
    return t->ops->evidence(t, report_data, out, out_size, diag);
}

int eos_tee_seal(eos_tee *t, const char *label, const uint8_t *plain, size_t plain_size,
                 uint8_t **out, size_t *out_size, eos_diag *diag)
{
    return t->ops->seal(t, label, plain, plain_size, out, out_size, diag);
}

int eos_tee_unseal(eos_tee *t, const char *label, const uint8_t *sealed, size_t sealed_size,
                   uint8_t **out, size_t *out_size, eos_diag *diag)
{
    return t->ops->unseal(t, label, sealed, sealed_size, out, out_size, diag);
}

int eos_tee_measurement(eos_tee *t, uint8_t out[64], size_t *out_size)
{
    return t->ops->measurement(t, out, out_size);
}
