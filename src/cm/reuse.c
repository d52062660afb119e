/* Instance reuse: a component instance recorded right after instantiation
 * and returned to that state between requests, so a pool of ready instances
 * serves requests that each see a fresh one. Handles the guest held are
 * dropped (host destructors run, as on free) and the store is restored. */
#include "internal.h"

int eos_cm_instance_snapshot(eos_cm_instance *i)
{
    /* A start function that created handles would need them recorded too:
     * such instances are simply not reused. */
    for (eos_cm__ci *ci = i->cis; ci; ci = ci->next)
        if (ci->table.len)
            return EOS_EUNSUPPORTED;
    return eos_wasm_store_snapshot(i->store);
}

int eos_cm_instance_reset(eos_cm_instance *i, void *data)
{
    for (eos_cm__ci *ci = i->cis; ci; ci = ci->next) {
        for (uint32_t k = 0; k < ci->table.len; k++) {
            eos_cm__handle *h = &ci->table.v[k];
            if (h->rt && h->own && h->rt->host_dtor)
                h->rt->host_dtor(h->rt->host_ud, i->data, h->rep);
        }
        eos_cm__table_free(&ci->table);
        ci->may_enter = ci->may_leave = true;
        ci->trapped = false;
    }
    i->data = data;
    return eos_wasm_store_restore(i->store);
}

void eos_cm_instance_set_data(eos_cm_instance *i, void *data)
{
    i->data = data;
}
