/* Store snapshots for instance reuse: the state of every memory, table,
 * global and instance of a store recorded once (after instantiation), and
 * restored between requests, so that a reused store starts exactly as a
 * fresh one would. Large memories are restored by remapping a memfd of their
 * contents copy-on-write (pages a request wrote are dropped by the kernel);
 * everything else is copied back. */
#include "internal.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct snap_mem {
    eos_wasm_memory *m;
    uint64_t size;
    eos_wasm__image img; /* contents at snapshot time */
} snap_mem;

typedef struct snap_table {
    eos_wasm_table *t;
    uint64_t size;
    void **elems;
} snap_table;

typedef struct snap_global {
    eos_wasm_global *g;
    uint64_t val, val_hi;
} snap_global;

typedef struct snap_inst {
    eos_wasm_instance *i;
    uint8_t *elem_dropped, *data_dropped;
} snap_inst;

struct eos_wasm__snapshot {
    snap_mem *mems;
    uint32_t nmems;
    snap_table *tables;
    uint32_t ntables;
    snap_global *globals;
    uint32_t nglobals;
    snap_inst *insts;
    uint32_t ninsts;
    uint64_t memory_total;
};

static bool page_is_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w)
            return false;
    }
    return true;
}

/* An image of m's current contents: a memfd holding only its non-zero pages
 * for a mapped memory (then mapped over it at once, so the snapshot's own
 * pages are shared), a heap copy for a small one. */
static int snap_memory(snap_mem *sm, eos_wasm_memory *m)
{
    sm->m = m;
    sm->size = m->size;
    sm->img.fd = -1;
    sm->img.copy = NULL;
    sm->img.view = NULL;
    sm->img.size = m->size;
    if (!m->size)
        return 0;
    if (!m->reserved) {
        sm->img.copy = eos_malloc((size_t)m->size);
        if (!sm->img.copy)
            return EOS_ENOMEM;
        memcpy(sm->img.copy, m->data, (size_t)m->size);
        return 0;
    }
    int fd = memfd_create("eos-wasm-snapshot", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)m->size) != 0)
        goto copy;
    const size_t chunk = 65536;
    for (uint64_t at = 0; at < m->size; at += chunk) {
        if (page_is_zero(m->data + at, chunk))
            continue;
        size_t done = 0;
        while (done < chunk) {
            ssize_t w = pwrite(fd, m->data + at + done, chunk - done, (off_t)(at + done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                goto copy;
            done += (size_t)w;
        }
    }
    sm->img.fd = fd;
    void *view = mmap(NULL, (size_t)m->size, PROT_READ, MAP_SHARED, fd, 0);
    sm->img.view = view == MAP_FAILED ? NULL : view;
    return eos_wasm__mem_apply_image(m, &sm->img);
copy:
    if (fd >= 0)
        close(fd);
    sm->img.fd = -1;
    sm->img.copy = eos_malloc((size_t)m->size);
    if (!sm->img.copy)
        return EOS_ENOMEM;
    memcpy(sm->img.copy, m->data, (size_t)m->size);
    return 0;
}

void eos_wasm__snapshot_free(eos_wasm__snapshot *sn)
{
    if (!sn)
        return;
    for (uint32_t k = 0; k < sn->nmems; k++)
        eos_wasm__image_free(&sn->mems[k].img);
    for (uint32_t k = 0; k < sn->ntables; k++)
        eos_free(sn->tables[k].elems, 0);
    for (uint32_t k = 0; k < sn->ninsts; k++) {
        eos_free(sn->insts[k].elem_dropped, 0);
        eos_free(sn->insts[k].data_dropped, 0);
    }
    eos_free(sn->mems, 0);
    eos_free(sn->tables, 0);
    eos_free(sn->globals, 0);
    eos_free(sn->insts, 0);
    eos_free(sn, sizeof(*sn));
}

static int count_objs(eos_wasm_store *s, eos_wasm__snapshot *sn)
{
    uint32_t n[4] = {0, 0, 0, 0};
    for (eos_wasm__obj *o = s->objs; o; o = o->next)
        n[o->kind]++;
    for (eos_wasm_instance *i = s->instances; i; i = i->next)
        sn->ninsts++;
    sn->mems = eos_calloc(n[EOS_WASM__OBJ_MEM] + 1, sizeof(snap_mem));
    sn->tables = eos_calloc(n[EOS_WASM__OBJ_TABLE] + 1, sizeof(snap_table));
    sn->globals = eos_calloc(n[EOS_WASM__OBJ_GLOBAL] + 1, sizeof(snap_global));
    sn->insts = eos_calloc(sn->ninsts + 1, sizeof(snap_inst));
    return sn->mems && sn->tables && sn->globals && sn->insts ? 0 : EOS_ENOMEM;
}

int eos_wasm_store_snapshot(eos_wasm_store *s)
{
    eos_wasm__snapshot *sn = eos_calloc(1, sizeof(*sn));
    int rc = sn ? count_objs(s, sn) : EOS_ENOMEM;
    if (rc)
        goto out;
    for (eos_wasm__obj *o = s->objs; o && !rc; o = o->next) {
        if (o->kind == EOS_WASM__OBJ_MEM) {
            rc = snap_memory(&sn->mems[sn->nmems++], (eos_wasm_memory *)o);
        } else if (o->kind == EOS_WASM__OBJ_TABLE) {
            eos_wasm_table *t = (eos_wasm_table *)o;
            snap_table *st = &sn->tables[sn->ntables++];
            st->t = t;
            st->size = t->size;
            st->elems = eos_malloc((size_t)(t->size ? t->size : 1) * sizeof(void *));
            if (!st->elems)
                rc = EOS_ENOMEM;
            else if (t->size)
                memcpy(st->elems, t->elems, (size_t)t->size * sizeof(void *));
        } else if (o->kind == EOS_WASM__OBJ_GLOBAL) {
            eos_wasm_global *g = (eos_wasm_global *)o;
            sn->globals[sn->nglobals++] = (snap_global){g, g->val, g->val_hi};
        }
    }
    uint32_t k = 0;
    for (eos_wasm_instance *i = s->instances; i && !rc; i = i->next, k++) {
        const eos_wasm_module *m = i->module;
        snap_inst *si = &sn->insts[k];
        si->i = i;
        si->elem_dropped = eos_malloc(m->elem_count + 1);
        si->data_dropped = eos_malloc(m->data_count + 1);
        if (!si->elem_dropped || !si->data_dropped) {
            rc = EOS_ENOMEM;
            break;
        }
        memcpy(si->elem_dropped, i->elem_dropped, m->elem_count + 1);
        memcpy(si->data_dropped, i->data_dropped, m->data_count + 1);
    }
    sn->memory_total = s->memory_total;
out:
    if (rc) {
        eos_wasm__snapshot_free(sn);
        return rc;
    }
    eos_wasm__snapshot_free(s->snapshot);
    s->snapshot = sn;
    for (uint32_t t = 0; t < sn->ntables; t++)
        sn->tables[t].t->written = false;
    return 0;
}

int eos_wasm_store_restore(eos_wasm_store *s)
{
    eos_wasm__snapshot *sn = s->snapshot;
    if (!sn)
        return EOS_EINVAL;
    if (s->depth || s->native_depth)
        return EOS_EBUSY;
    int rc = 0;
    for (uint32_t k = 0; k < sn->nmems && !rc; k++) {
        snap_mem *sm = &sn->mems[k];
        rc = eos_wasm__mem_reset(sm->m, sm->size, sm->size ? &sm->img : NULL);
    }
    for (uint32_t k = 0; k < sn->ntables && !rc; k++) {
        snap_table *st = &sn->tables[k];
        eos_wasm_table *t = st->t;
        /* A table only grows: the snapshot's prefix fits in place. Most
         * requests write no table (a language runtime's function table can
         * hold thousands of entries); growing one marks it written too. */
        if (st->size && t->written)
            memcpy(t->elems, st->elems, (size_t)st->size * sizeof(void *));
        t->size = st->size;
        t->written = false;
    }
    for (uint32_t k = 0; k < sn->nglobals; k++) {
        sn->globals[k].g->val = sn->globals[k].val;
        sn->globals[k].g->val_hi = sn->globals[k].val_hi;
    }
    for (uint32_t k = 0; k < sn->ninsts; k++) {
        const eos_wasm_module *m = sn->insts[k].i->module;
        memcpy(sn->insts[k].i->elem_dropped, sn->insts[k].elem_dropped, m->elem_count + 1);
        memcpy(sn->insts[k].i->data_dropped, sn->insts[k].data_dropped, m->data_count + 1);
    }
    s->memory_total = sn->memory_total;
    s->sp = s->stack;
    s->trap_msg[0] = 0;
    atomic_store_explicit(&s->interrupted, false, memory_order_relaxed);
    return rc;
}
