/* Exercises every wasi:keyvalue function (0.2.0-draft2) and the POSIX file
 * calls a C program makes (through wasi-libc onto wasi:filesystem), with
 * assertions on results and error codes. run("write") checks and leaves
 * data behind, run("persist") checks that data after a store restart, and
 * run("isolated") checks that another app sees none of it. Returns "ok" or
 * the first failed check. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KV(i, n) __attribute__((import_module("wasi:keyvalue/" i "@0.2.0-draft2"), import_name(n)))

KV("store", "open") void kv_open(const char *p, size_t n, void *ret);
KV("store", "[method]bucket.get") void kv_get(int b, const char *k, size_t kn, void *ret);
KV("store", "[method]bucket.set")
void kv_set(int b, const char *k, size_t kn, const void *v, size_t vn, void *ret);
KV("store", "[method]bucket.delete") void kv_delete(int b, const char *k, size_t kn, void *ret);
KV("store", "[method]bucket.exists") void kv_exists(int b, const char *k, size_t kn, void *ret);
KV("store", "[method]bucket.list-keys")
void kv_list(int b, int has, const char *c, size_t cn, void *ret);
KV("store", "[resource-drop]bucket") void kv_drop(int b);
KV("atomics", "increment") void kv_incr(int b, const char *k, size_t kn, int64_t d, void *ret);
KV("atomics", "[static]cas.new") void cas_new(int b, const char *k, size_t kn, void *ret);
KV("atomics", "[method]cas.current") void cas_current(int c, void *ret);
KV("atomics", "swap") void cas_swap(int c, const void *v, size_t vn, void *ret);
KV("atomics", "[resource-drop]cas") void cas_drop(int c);
KV("batch", "get-many") void kv_get_many(int b, const void *keys, size_t n, void *ret);
KV("batch", "set-many") void kv_set_many(int b, const void *kvs, size_t n, void *ret);
KV("batch", "delete-many") void kv_delete_many(int b, const void *keys, size_t n, void *ret);

__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *p, size_t old, size_t align,
                                                                size_t size)
{
    (void)old;
    (void)align;
    return realloc(p, size ? size : 1);
}

static char msg[512];
static char *result_ptr[2];

#define CHECK(c)                                                                               \
    do {                                                                                       \
        if (!(c)) {                                                                            \
            snprintf(msg, sizeof(msg), "line %d: %s (errno %d)", __LINE__, #c, errno);         \
            return -1;                                                                         \
        }                                                                                      \
    } while (0)

typedef struct { const char *p; size_t n; } str;
typedef struct { str k; str v; } pair;

static uint32_t u32(const uint8_t *r, int off) { uint32_t v; memcpy(&v, r + off, 4); return v; }

static int open_bucket(const char *name)
{
    _Alignas(8) uint8_t r[16];
    kv_open(name, strlen(name), r);
    return r[0] == 0 ? (int)u32(r, 4) : -1;
}

/* get: 1 found (value copied to out), 0 absent, -1 error */
static int get(int b, const char *k, char *out, size_t cap)
{
    _Alignas(8) uint8_t r[16];
    kv_get(b, k, strlen(k), r);
    if (r[0])
        return -1;
    if (!r[4])
        return 0;
    size_t n = u32(r, 12);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, (void *)(uintptr_t)u32(r, 8), n);
    out[n] = 0;
    return 1;
}

static int set(int b, const char *k, const char *v)
{
    _Alignas(8) uint8_t r[16];
    kv_set(b, k, strlen(k), v, strlen(v), r);
    return r[0] ? -1 : 0;
}

static int kv_all(void)
{
    char buf[256];
    _Alignas(8) uint8_t r[32];
    int b = open_bucket("main");
    CHECK(b >= 0);
    CHECK(set(b, "greeting", "hello") == 0);
    CHECK(get(b, "greeting", buf, sizeof(buf)) == 1 && strcmp(buf, "hello") == 0);
    CHECK(get(b, "missing", buf, sizeof(buf)) == 0);
    kv_exists(b, "greeting", 8, r);
    CHECK(r[0] == 0 && r[4] == 1);
    kv_exists(b, "missing", 7, r);
    CHECK(r[0] == 0 && r[4] == 0);
    CHECK(set(b, "temp", "x") == 0);
    kv_delete(b, "temp", 4, r);
    CHECK(r[0] == 0);
    kv_delete(b, "temp", 4, r); /* absent: still ok */
    CHECK(r[0] == 0);
    CHECK(get(b, "temp", buf, sizeof(buf)) == 0);
    /* an empty key is refused with error.other */
    kv_set(b, "", 0, "v", 1, r);
    CHECK(r[0] == 1 && r[4] == 2);
    /* listing: 30 keys in pages until the cursor is none */
    for (int i = 0; i < 30; i++) {
        char k[16];
        snprintf(k, sizeof(k), "list-%02d", i);
        CHECK(set(b, k, "v") == 0);
    }
    int seen = 0, pages = 0;
    int has = 0;
    char cursor[80] = "";
    do {
        kv_list(b, has, cursor, strlen(cursor), r);
        CHECK(r[0] == 0);
        str *keys = (str *)(uintptr_t)u32(r, 4);
        size_t n = u32(r, 8);
        for (size_t i = 0; i < n; i++)
            seen += strncmp(keys[i].p, "list-", 5) == 0;
        has = r[12];
        if (has) {
            size_t cn = u32(r, 20);
            CHECK(cn < sizeof(cursor));
            memcpy(cursor, (void *)(uintptr_t)u32(r, 16), cn);
            cursor[cn] = 0;
        }
        pages++;
    } while (has && pages < 100);
    CHECK(seen == 30);
    /* atomics */
    kv_incr(b, "counter", 7, 5, r);
    CHECK(r[0] == 0);
    int64_t v;
    memcpy(&v, r + 8, 8);
    CHECK(v == 5);
    kv_incr(b, "counter", 7, -2, r);
    memcpy(&v, r + 8, 8);
    CHECK(r[0] == 0 && v == 3);
    kv_incr(b, "greeting", 8, 1, r); /* not a counter */
    CHECK(r[0] == 1);
    cas_new(b, "greeting", 8, r);
    CHECK(r[0] == 0);
    int c = (int)u32(r, 4);
    cas_current(c, r);
    CHECK(r[0] == 0 && r[4] == 1 && u32(r, 12) == 5);
    CHECK(set(b, "greeting", "changed") == 0); /* makes the cas stale */
    cas_swap(c, "lost", 4, r);
    CHECK(r[0] == 1 && r[4] == 1); /* cas-failed with a fresh handle */
    int c2 = (int)u32(r, 8);
    cas_current(c2, r);
    CHECK(r[0] == 0 && r[4] == 1 && u32(r, 12) == 7);
    cas_swap(c2, "swapped", 7, r);
    CHECK(r[0] == 0);
    CHECK(get(b, "greeting", buf, sizeof(buf)) == 1 && strcmp(buf, "swapped") == 0);
    /* batch */
    pair kvs[3] = {{{"b1", 2}, {"one", 3}}, {{"b2", 2}, {"two", 3}}, {{"b3", 2}, {"", 0}}};
    kv_set_many(b, kvs, 3, r);
    CHECK(r[0] == 0);
    str keys[4] = {{"b1", 2}, {"nope", 4}, {"b2", 2}, {"b3", 2}};
    kv_get_many(b, keys, 4, r);
    CHECK(r[0] == 0 && u32(r, 8) == 4);
    uint8_t *items = (uint8_t *)(uintptr_t)u32(r, 4);
    CHECK(items[0] == 1 && items[20] == 0 && items[40] == 1 && items[60] == 1);
    CHECK(u32(items, 16) == 3 && memcmp((void *)(uintptr_t)u32(items, 12), "one", 3) == 0);
    CHECK(u32(items, 76) == 0); /* empty value */
    str del[2] = {{"b1", 2}, {"never", 5}};
    kv_delete_many(b, del, 2, r);
    CHECK(r[0] == 0);
    CHECK(get(b, "b1", buf, sizeof(buf)) == 0 && get(b, "b2", buf, sizeof(buf)) == 1);
    /* buckets are separate */
    int b2 = open_bucket("other");
    CHECK(b2 >= 0 && get(b2, "greeting", buf, sizeof(buf)) == 0);
    kv_drop(b2);
    kv_drop(b);
    return 0;
}

static int write_file(const char *path, const char *data)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t n = fwrite(data, 1, strlen(data), f);
    return fclose(f) == 0 && n == strlen(data) ? 0 : -1;
}

static int read_file(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = 0;
    fclose(f);
    return (int)n;
}

static int fs_all(void)
{
    char buf[256];
    struct stat st;
    CHECK(mkdir("/data", 0755) == 0);
    CHECK(mkdir("/data", 0755) == -1 && errno == EEXIST);
    CHECK(write_file("/data/a.txt", "hello file") == 0);
    CHECK(read_file("/data/a.txt", buf, sizeof(buf)) == 10 && strcmp(buf, "hello file") == 0);
    CHECK(stat("/data/a.txt", &st) == 0 && st.st_size == 10 && S_ISREG(st.st_mode));
    CHECK(stat("/data", &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(open("/data/none.txt", O_RDONLY) == -1 && errno == ENOENT);
    CHECK(open("/nodir/x.txt", O_WRONLY | O_CREAT, 0644) == -1 && errno == ENOENT);
    CHECK(open("/data/a.txt", O_WRONLY | O_CREAT | O_EXCL, 0644) == -1 && errno == EEXIST);
    /* append */
    FILE *f = fopen("/data/a.txt", "a");
    CHECK(f && fputs("!!", f) >= 0 && fclose(f) == 0);
    CHECK(read_file("/data/a.txt", buf, sizeof(buf)) == 12 && strcmp(buf, "hello file!!") == 0);
    /* writes at offsets, past the end (a hole reads as zeros), across a chunk */
    int fd = open("/data/big.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(pwrite(fd, "AB", 2, 65535) == 2);
    CHECK(pwrite(fd, "Z", 1, 200000) == 1);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 200001);
    char two[3] = {0};
    CHECK(pread(fd, two, 2, 65535) == 2 && two[0] == 'A' && two[1] == 'B');
    CHECK(pread(fd, two, 1, 100000) == 1 && two[0] == 0);
    CHECK(pread(fd, two, 2, 200001) == 0); /* at the end */
    /* truncate and grow again: the cut part reads as zeros */
    CHECK(ftruncate(fd, 65536) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 65536);
    CHECK(ftruncate(fd, 70000) == 0);
    CHECK(pread(fd, two, 1, 65536) == 1 && two[0] == 0);
    CHECK(pread(fd, two, 1, 65535) == 1 && two[0] == 'A');
    CHECK(fsync(fd) == 0);
    CHECK(close(fd) == 0);
    /* rename, replacing an existing file */
    CHECK(write_file("/data/b.txt", "bee") == 0);
    CHECK(write_file("/data/c.txt", "sea") == 0);
    CHECK(rename("/data/b.txt", "/data/c.txt") == 0);
    CHECK(read_file("/data/c.txt", buf, sizeof(buf)) == 3 && strcmp(buf, "bee") == 0);
    CHECK(open("/data/b.txt", O_RDONLY) == -1 && errno == ENOENT);
    /* directories: readdir, rmdir of a non-empty one, rename of a tree */
    CHECK(mkdir("/data/sub", 0755) == 0);
    CHECK(write_file("/data/sub/x", "x") == 0);
    DIR *d = opendir("/data");
    CHECK(d != NULL);
    int n = 0, saw_sub = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        if (strcmp(e->d_name, "sub") == 0)
            saw_sub = e->d_type == DT_DIR;
    }
    closedir(d);
    CHECK(n == 4 && saw_sub); /* a.txt big.bin c.txt sub */
    CHECK(rmdir("/data/sub") == -1 && errno == ENOTEMPTY);
    CHECK(unlink("/data/sub") == -1 && (errno == EISDIR || errno == EPERM));
    CHECK(rename("/data/sub", "/data/moved") == 0);
    CHECK(read_file("/data/moved/x", buf, sizeof(buf)) == 1);
    CHECK(unlink("/data/moved/x") == 0);
    CHECK(unlink("/data/moved/x") == -1 && errno == ENOENT);
    CHECK(rmdir("/data/moved") == 0);
    CHECK(rmdir("/data/a.txt") == -1 && errno == ENOTDIR);
    CHECK(open("/../escape", O_RDONLY) == -1);
    return 0;
}

static int persisted(void)
{
    char buf[256];
    int b = open_bucket("main");
    CHECK(b >= 0);
    CHECK(get(b, "greeting", buf, sizeof(buf)) == 1 && strcmp(buf, "swapped") == 0);
    _Alignas(8) uint8_t r[32];
    kv_incr(b, "counter", 7, 0, r);
    int64_t v;
    memcpy(&v, r + 8, 8);
    CHECK(r[0] == 0 && v == 3);
    kv_drop(b);
    CHECK(read_file("/data/c.txt", buf, sizeof(buf)) == 3 && strcmp(buf, "bee") == 0);
    struct stat st;
    CHECK(stat("/data/big.bin", &st) == 0 && st.st_size == 70000);
    return 0;
}

static int isolated(void)
{
    char buf[256];
    int b = open_bucket("main");
    CHECK(b >= 0);
    CHECK(get(b, "greeting", buf, sizeof(buf)) == 0);
    _Alignas(8) uint8_t r[32];
    kv_list(b, 0, "", 0, r);
    CHECK(r[0] == 0 && u32(r, 8) == 0);
    kv_drop(b);
    CHECK(open("/data/c.txt", O_RDONLY) == -1 && errno == ENOENT);
    struct stat st;
    CHECK(stat("/data", &st) == -1 && errno == ENOENT);
    return 0;
}

__attribute__((export_name("run"))) char **run(const char *op, size_t n)
{
    int rc = -1;
    msg[0] = 0;
    if (n == 5 && memcmp(op, "write", 5) == 0)
        rc = kv_all() ? -1 : fs_all();
    else if (n == 7 && memcmp(op, "persist", 7) == 0)
        rc = persisted();
    else if (n == 8 && memcmp(op, "isolated", 8) == 0)
        rc = isolated();
    else
        snprintf(msg, sizeof(msg), "unknown op");
    if (rc == 0)
        snprintf(msg, sizeof(msg), "ok");
    result_ptr[0] = msg;
    result_ptr[1] = (char *)(uintptr_t)strlen(msg);
    return result_ptr;
}
