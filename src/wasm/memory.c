/* Linear memory backing: address space reserved once per memory with mmap,
 * zero pages from the kernel, growth inside the reservation, and a module's
 * initialised image mapped copy-on-write from a memfd (copied when the
 * platform has no memfd or refuses the mapping, as under some TEEs). */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* Without a store limit a memory reserves at most this much address space
 * up front; growth past it moves the memory (rare: data pointers are
 * refetched after growth anyway). Reserving 4 GiB per memory would exhaust
 * the address space of an SGX enclave, which is sized at build time. */
#define DEFAULT_RESERVE (1ull << 30)

/* Memories that start at most this large live in the heap, as do their
 * images: for them a memset and a memcpy of warm memory cost less than the
 * mmap, munmap and page faults of a fresh mapping (a C app's two pages). */
#define SMALL_MEMORY (256u * 1024)

static size_t host_page(void)
{
    static size_t page;
    if (!page) {
        long p = sysconf(_SC_PAGESIZE);
        page = p > 0 ? (size_t)p : 4096;
    }
    return page;
}

static uint64_t round_page(uint64_t n)
{
    uint64_t p = host_page();
    return (n + p - 1) / p * p;
}

static int heap_map(eos_wasm_memory *m, uint64_t size)
{
    if (size > SIZE_MAX)
        return EOS_ENOMEM;
    m->data = eos_calloc(1, size ? (size_t)size : 8);
    m->size = size;
    m->reserved = 0;
    return m->data ? 0 : EOS_ENOMEM;
}

static int heap_resize(eos_wasm_memory *m, uint64_t new_size)
{
    uint8_t *p = eos_realloc(m->data, m->size ? (size_t)m->size : 8, (size_t)new_size);
    if (!p)
        return EOS_ELIMIT;
    memset(p + m->size, 0, (size_t)(new_size - m->size));
    m->data = p;
    m->size = new_size;
    return 0;
}

int eos_wasm__mem_map(eos_wasm_memory *m, uint64_t size, uint64_t want_reserve)
{
    m->cap_reserve = want_reserve;
    m->mapped = NULL;
    if (size <= SMALL_MEMORY)
        return heap_map(m, size);
    uint64_t reserve = want_reserve < size ? size : want_reserve;
    if (reserve > DEFAULT_RESERVE && reserve > size)
        reserve = size > DEFAULT_RESERVE ? size : DEFAULT_RESERVE;
    reserve = round_page(reserve ? reserve : 1);
    if (reserve > SIZE_MAX)
        return EOS_ENOMEM;
    /* The whole reservation is mapped readable and writable but never
     * committed (MAP_NORESERVE): the engine bounds-checks every access, so
     * pages past the size are never touched, and one system call is enough.
     * Pages beyond a shrink are returned with MADV_DONTNEED. */
    void *p = mmap(NULL, (size_t)reserve, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    /* No address space to reserve (an enclave sized tightly): the heap. */
    if (p == MAP_FAILED)
        return heap_map(m, size);
    m->data = p;
    m->size = size;
    m->reserved = reserve;
    return 0;
}

void eos_wasm__mem_unmap(eos_wasm_memory *m)
{
    if (m->guarded) {
        eos_wasm__guard_unmap(m);
        return;
    }
    if (m->data && m->reserved)
        munmap(m->data, (size_t)m->reserved);
    else
        eos_free(m->data, m->size ? m->size : 8);
    m->data = NULL;
    m->reserved = 0;
}

int eos_wasm__mem_resize(eos_wasm_memory *m, uint64_t new_size)
{
    if (m->guarded)
        return eos_wasm__guard_resize(m, new_size);
    if (new_size <= m->reserved) {
        m->size = new_size;
        return 0;
    }
    if (!m->reserved && new_size <= SMALL_MEMORY)
        return heap_resize(m, new_size);
    /* Past the reservation: a larger one, then a move (the new pages are
     * zero already). */
    uint64_t reserve = m->reserved * 2 > new_size ? m->reserved * 2 : new_size;
    if (!m->reserved) /* leaving the heap: reserve as a large memory would */
        reserve = m->cap_reserve > DEFAULT_RESERVE ? DEFAULT_RESERVE : m->cap_reserve;
    if (reserve < new_size)
        reserve = new_size;
    uint64_t cap = m->max_pages << eos_wasm__page_log2(&m->type);
    if (reserve > cap)
        reserve = cap > new_size ? cap : new_size;
    reserve = round_page(reserve);
    void *p = mmap(NULL, (size_t)reserve, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return m->reserved ? EOS_ELIMIT : heap_resize(m, new_size);
    memcpy(p, m->data, (size_t)m->size);
    eos_wasm__mem_unmap(m);
    m->mapped = NULL;
    m->data = p;
    m->size = new_size;
    m->reserved = reserve;
    return 0;
}

/* ---- interpreter code ----------------------------------------------------- */

typedef struct eos_wasm__chunk {
    struct eos_wasm__chunk *next;
    size_t size, used; /* bytes, header included */
} eos_wasm__chunk;

#define CODE_CHUNK (1u << 20)

uint32_t *eos_wasm__code_alloc(eos_wasm_module *m, size_t words)
{
    size_t need = words * sizeof(uint32_t);
    eos_wasm__chunk *c = m->code_chunks;
    if (!c || c->size - c->used < need) {
        size_t size = round_page(sizeof(*c) + need);
        if (size < CODE_CHUNK)
            size = CODE_CHUNK;
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return NULL;
        c = p;
        c->next = m->code_chunks;
        c->size = size;
        c->used = (sizeof(*c) + 15) & ~(size_t)15;
        m->code_chunks = c;
    }
    uint32_t *w = (uint32_t *)((uint8_t *)c + c->used);
    c->used += (need + 7) & ~(size_t)7;
    return w;
}

void eos_wasm__code_free_all(eos_wasm_module *m)
{
    for (uint32_t i = 0; m->lazy && m->codes && i < m->code_count; i++) {
        eos_free(m->codes[i].threaded, 0);
        m->codes[i].threaded = NULL;
    }
    while (m->code_chunks) {
        eos_wasm__chunk *next = m->code_chunks->next;
        munmap(m->code_chunks, m->code_chunks->size);
        m->code_chunks = next;
    }
}

/* ---- images ----------------------------------------------------------------- */

int eos_wasm__image_build(eos_wasm__image *img, const eos_wasm_module *m, uint64_t extent)
{
    img->fd = -1;
    img->copy = NULL;
    img->view = NULL;
    img->size = round_page(extent);
    if (!img->size)
        return 0;
    int fd = -1;
    if (img->size <= SMALL_MEMORY)
        goto build;
    /* The memfd holds the image outside the process's heap; pages it never
     * receives stay holes and read as zero. */
    fd = memfd_create("eos-wasm-image", MFD_CLOEXEC);
    if (fd >= 0 && ftruncate(fd, (off_t)img->size) != 0) {
        close(fd);
        fd = -1;
    }
build:
    if (fd < 0) {
        img->copy = eos_calloc(1, (size_t)img->size);
        if (!img->copy)
            return EOS_ENOMEM;
    }
    for (uint32_t k = 0; k < m->data_count; k++) {
        const eos_wasm__data *d = &m->datas[k];
        if (d->mode != EOS_WASM_SEG_ACTIVE || !d->size)
            continue;
        uint64_t at = m->plan.data_off[k];
        const uint8_t *src = m->bytes + d->off;
        if (fd < 0) {
            memcpy(img->copy + at, src, d->size);
            continue;
        }
        size_t done = 0;
        while (done < d->size) {
            ssize_t w = pwrite(fd, src + done, d->size - done, (off_t)(at + done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                close(fd);
                return EOS_EIO;
            }
            done += (size_t)w;
        }
    }
    if (fd >= 0) {
        /* Probe the mapping once: a platform that offers memfd but not
         * private file mappings of it falls back to copies. */
        void *p = mmap(NULL, (size_t)img->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            img->copy = eos_malloc((size_t)img->size);
            if (!img->copy || pread(fd, img->copy, (size_t)img->size, 0) != (ssize_t)img->size) {
                close(fd);
                return EOS_ENOMEM;
            }
            close(fd);
            fd = -1;
        } else {
            img->view = p; /* kept: resets copy written pages back from it */
        }
    }
    img->fd = fd;
    return 0;
}

void eos_wasm__image_free(eos_wasm__image *img)
{
    if (img->view)
        munmap((void *)img->view, (size_t)img->size);
    if (img->fd >= 0)
        close(img->fd);
    eos_free(img->copy, (size_t)img->size);
    img->view = NULL;
    img->fd = -1;
    img->copy = NULL;
    img->size = 0;
}

int eos_wasm__mem_apply_image(eos_wasm_memory *m, const eos_wasm__image *img)
{
    if (!img->size)
        return 0;
    if (img->size > m->size)
        return EOS_EINVAL;
    if (img->fd >= 0 && m->reserved) {
        void *p = mmap(m->data, (size_t)img->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
                       img->fd, 0);
        if (p != MAP_FAILED) {
            m->mapped = img;
            return 0;
        }
        /* MAP_FIXED failing leaves the range as it was: copy instead. */
    }
    if (img->copy) {
        memcpy(m->data, img->copy, (size_t)img->size);
        return 0;
    }
    /* A large memory moved to the heap never happens (large ones are mapped),
     * but a mapping refused at run time still gets the image. */
    ssize_t r = pread(img->fd, m->data, (size_t)img->size, 0);
    return r == (ssize_t)img->size ? 0 : EOS_EIO;
}

/* /proc/self/pagemap, opened once; -1 where there is none (under a TEE). */
static int pagemap_fd(void)
{
    static atomic_int fd = -2;
    int f = atomic_load_explicit(&fd, memory_order_relaxed);
    if (f != -2)
        return f;
    f = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    int none = -2;
    if (!atomic_compare_exchange_strong(&fd, &none, f < 0 ? -1 : f)) {
        if (f >= 0)
            close(f);
        f = none;
    }
    return f;
}

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_FILE (1ull << 61)
#define PM_EXCLUSIVE (1ull << 56)

/* At most this many written pages are put back by copying per reset; the
 * rest go back to the kernel. */
#define COPY_BACK_PAGES 512u

/* The page map's PAGEMAP_SCAN request (Linux 6.7), declared here as the
 * kernel defines it since older headers lack it: the kernel walks the page
 * table itself and returns runs of pages in the categories asked for, instead
 * of eight bytes per page for the caller to read and test. */
typedef struct pm_region {
    uint64_t start, end, categories;
} pm_region;

typedef struct pm_scan {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
} pm_scan;

#define PM_SCAN_REQUEST _IOWR('f', 16, pm_scan)
#define PM_IS_FILE (1u << 2)
#define PM_IS_PRESENT (1u << 3)
#define PM_IS_SWAPPED (1u << 4)
#define PM_IS_PFNZERO (1u << 5)

/* 1 until the kernel refuses the request (older than 6.7), then 0. */
static atomic_int scan_works = 1;

/* reset_written's work with PAGEMAP_SCAN: the written pages are those present
 * or swapped out that are neither the image file's own pages nor the shared
 * zero page (both read as what the snapshot holds). A reset of hello-js finds
 * about 75 written among 2,320 pages; reading an entry per page cost about
 * 7% of the server's CPU per hello-js request (compiled). Pages are put back as in
 * reset_written, except that a page another process shares (after a fork) is
 * also copied into, which costs a copy-on-write fault, not correctness.
 * Returns 1 when done, 0 when the kernel lacks the request (nothing was
 * changed), -1 on failure. */
static int reset_scanned(eos_wasm_memory *m, const eos_wasm__image *img, int fd)
{
    const uint64_t page = host_page();
    const uint64_t base = (uintptr_t)m->data;
    const uint64_t end = base + round_page(m->size);
    const uint64_t image_end = base + (img ? img->size : 0);
    pm_region v[64];
    uint64_t at = base, run = 0, run_end = 0; /* pages to drop: [run, run_end) */
    uint32_t copied = 0;
    while (at < end) {
        pm_scan a = {
            .size = sizeof(a),
            .start = at,
            .end = end,
            .vec = (uintptr_t)v,
            .vec_len = EOS_ARRAY_LEN(v),
            .category_inverted = PM_IS_FILE | PM_IS_PFNZERO,
            .category_mask = PM_IS_FILE | PM_IS_PFNZERO,
            .category_anyof_mask = PM_IS_PRESENT | PM_IS_SWAPPED,
            .return_mask = PM_IS_PRESENT | PM_IS_SWAPPED,
        };
        int n = ioctl(fd, PM_SCAN_REQUEST, &a);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && at == base && (errno == ENOTTY || errno == EINVAL || errno == EOPNOTSUPP)) {
            atomic_store_explicit(&scan_works, 0, memory_order_relaxed);
            return 0;
        }
        if (n < 0 || (size_t)n > EOS_ARRAY_LEN(v) || a.walk_end <= at || a.walk_end > end)
            return -1;
        for (int k = 0; k < n; k++) {
            for (uint64_t pg = v[k].start; pg < v[k].end; pg += page) {
                bool in_image = pg < image_end;
                if ((v[k].categories & PM_IS_PRESENT) && copied < COPY_BACK_PAGES &&
                    (!in_image || (img && img->view))) {
                    uint8_t *p = (uint8_t *)(uintptr_t)pg;
                    if (in_image)
                        memcpy(p, img->view + (pg - base), (size_t)page);
                    else
                        memset(p, 0, (size_t)page);
                    copied++;
                    continue;
                }
                if (run_end != pg) {
                    if (run_end && madvise((void *)(uintptr_t)run, (size_t)(run_end - run),
                                           MADV_DONTNEED))
                        return -1;
                    run = pg;
                }
                run_end = pg + page;
            }
        }
        at = a.walk_end;
    }
    if (run_end && madvise((void *)(uintptr_t)run, (size_t)(run_end - run), MADV_DONTNEED))
        return -1;
    return 1;
}

/* Puts back only the pages a request wrote, found in the page map: in the
 * image, its private copies (the file's read-only pages stay mapped: no
 * read fault next time); past it, every page present. A page this process
 * alone maps is put back in place, copied from the image's view or zeroed:
 * it stays mapped, so the next request takes no page fault on it and the
 * reset sends no TLB shootdown to the other threads. Past COPY_BACK_PAGES
 * (or without a view) each run goes in one MADV_DONTNEED, which drops a
 * private file mapping's copies back to the file and anonymous pages back
 * to zero. The kernel finds the written pages itself where it can
 * (reset_scanned). Returns false when the page map cannot be read. */
static bool reset_written(eos_wasm_memory *m, const eos_wasm__image *img)
{
    int fd = pagemap_fd();
    if (fd < 0)
        return false;
    if (atomic_load_explicit(&scan_works, memory_order_relaxed)) {
        int done = reset_scanned(m, img, fd);
        if (done)
            return done > 0;
    }
    const uint64_t page = host_page();
    const uint64_t pages = round_page(m->size) / page;
    const uint64_t image_size = img ? img->size : 0;
    uint64_t ents[512]; /* 2 MiB of memory per read */
    uint64_t run = UINT64_MAX; /* first page of the current run to drop */
    uint32_t copied = 0;
    for (uint64_t at = 0; at < pages;) {
        uint64_t n = pages - at < 512 ? pages - at : 512;
        off_t off = (off_t)(((uintptr_t)m->data / page + at) * sizeof(uint64_t));
        if (pread(fd, ents, n * sizeof(uint64_t), off) != (ssize_t)(n * sizeof(uint64_t)))
            return false;
        for (uint64_t k = 0; k < n; k++) {
            uint64_t e = ents[k], pg = at + k;
            bool in_image = pg * page < image_size;
            bool written = (e & PM_SWAPPED) || ((e & PM_PRESENT) && !(in_image && (e & PM_FILE)));
            bool drop = written;
            if (written && (e & PM_EXCLUSIVE) && !(e & PM_SWAPPED) && copied < COPY_BACK_PAGES &&
                (!in_image || (img && img->view))) {
                uint8_t *p = m->data + pg * page;
                if (in_image)
                    memcpy(p, img->view + pg * page, (size_t)page);
                else
                    memset(p, 0, (size_t)page);
                copied++;
                drop = false;
            }
            if (drop && run == UINT64_MAX)
                run = pg;
            if (!drop && run != UINT64_MAX) {
                if (madvise(m->data + run * page, (size_t)((pg - run) * page), MADV_DONTNEED))
                    return false;
                run = UINT64_MAX;
            }
        }
        at += n;
    }
    if (run != UINT64_MAX &&
        madvise(m->data + run * page, (size_t)((pages - run) * page), MADV_DONTNEED))
        return false;
    return true;
}

int eos_wasm__mem_reset(eos_wasm_memory *m, uint64_t size, const eos_wasm__image *img)
{
    /* Where the page map can be read, only written pages are put back
     * (reset_written). Otherwise everything written goes back to the
     * kernel: the image is mapped afresh (dropping private copies) and the
     * rest is zeroed by MADV_DONTNEED, which anonymous private mappings
     * guarantee. A memory in the heap is small: it is zeroed and copied. */
    uint64_t from = img && img->fd >= 0 && m->reserved ? img->size : 0;
    if (!m->reserved) {
        uint8_t *p = eos_realloc(m->data, m->size ? m->size : 8, size ? size : 8);
        if (!p)
            return EOS_ENOMEM;
        memset(p, 0, (size_t)size);
        m->data = p;
        m->size = size;
        return img ? eos_wasm__mem_apply_image(m, img) : 0;
    }
    /* The image still mapped where it was (or none at all): only what was
     * written needs to go. A guarded memory keeps its own path below. */
    if (!m->guarded && (img ? img->fd >= 0 && m->mapped == img : !m->mapped) &&
        reset_written(m, img)) {
        m->size = size;
        return 0;
    }
    /* A small guarded memory (mapped, where an unguarded one would live in
     * the heap) is cleared in place: dropping its pages would cost a fault
     * per page on every request. */
    bool clear = m->guarded && m->size - from <= SMALL_MEMORY;
    if (m->size > from &&
        (clear || madvise(m->data + from, (size_t)(m->size - from), MADV_DONTNEED) != 0))
        memset(m->data + from, 0, (size_t)(m->size - from));
    if (m->guarded) {
        /* Pages past the restored size must fault again. */
        int rc = eos_wasm__guard_resize(m, size);
        if (rc)
            return rc;
    }
    m->size = size;
    return img ? eos_wasm__mem_apply_image(m, img) : 0;
}
