/* The console's live log: a ring of the last lines logged, each with a
 * sequence number, rendered as server-sent events after a client's
 * Last-Event-ID. The server answers with what it has and closes; the
 * browser comes back after the retry delay, so no connection is held open. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

struct eos_console_log {
    pthread_mutex_t lock;
    size_t cap;        /* slots */
    char **lines;      /* lines[seq % cap], NUL-terminated */
    size_t *sizes;     /* without the NUL */
    uint64_t next_seq; /* the id of the next line; ids start at 1 */
    eos_log_tap tap;
};

static void tap_fn(void *ud, eos_log_level level, const char *line, size_t size)
{
    (void)level;
    eos_console_log_append(ud, line, size);
}

int eos_console_log_new(size_t lines, eos_console_log **out)
{
    *out = NULL;
    eos_console_log *l = eos_calloc(1, sizeof *l);
    if (!l)
        return EOS_ENOMEM;
    l->cap = lines ? lines : 1000;
    l->lines = eos_calloc(l->cap, sizeof *l->lines);
    l->sizes = eos_calloc(l->cap, sizeof *l->sizes);
    if (!l->lines || !l->sizes) {
        eos_console_log_free(l);
        return EOS_ENOMEM;
    }
    pthread_mutex_init(&l->lock, NULL);
    l->next_seq = 1;
    l->tap.fn = tap_fn;
    l->tap.ud = l;
    *out = l;
    return 0;
}

void eos_console_log_free(eos_console_log *l)
{
    if (!l)
        return;
    if (l->lines) {
        pthread_mutex_destroy(&l->lock);
        for (size_t i = 0; i < l->cap; i++)
            if (l->lines[i])
                eos_free(l->lines[i], l->sizes[i] + 1);
    }
    eos_free(l->lines, l->cap * sizeof *l->lines);
    eos_free(l->sizes, l->cap * sizeof *l->sizes);
    eos_free(l, sizeof *l);
}

const eos_log_tap *eos_console_log_tap(eos_console_log *l)
{
    return &l->tap;
}

void eos_console_log_append(eos_console_log *l, const char *line, size_t size)
{
    /* Copied before taking the lock: logging threads wait only for the swap. */
    char *copy = eos_malloc(size + 1);
    if (!copy)
        return;
    for (size_t i = 0; i < size; i++)
        copy[i] = line[i] == '\n' || line[i] == '\r' ? ' ' : line[i];
    copy[size] = 0;
    pthread_mutex_lock(&l->lock);
    size_t slot = (size_t)(l->next_seq % l->cap);
    char *old = l->lines[slot];
    size_t old_size = l->sizes[slot];
    l->lines[slot] = copy;
    l->sizes[slot] = size;
    l->next_seq++;
    pthread_mutex_unlock(&l->lock);
    if (old)
        eos_free(old, old_size + 1);
}

int eos_console_log_events(eos_console_log *l, uint64_t after, unsigned retry_ms, size_t max_events,
                           char **out, size_t *out_size)
{
    int rc = 0;
    *out = NULL;
    *out_size = 0;
    pthread_mutex_lock(&l->lock);
    uint64_t oldest = l->next_seq > l->cap ? l->next_seq - l->cap : 1;
    uint64_t first = after + 1 > oldest ? after + 1 : oldest;
    if (first > l->next_seq)
        first = l->next_seq; /* an id from before a restart: start afresh */
    if (max_events && l->next_seq - first > max_events)
        first = l->next_seq - max_events;
    /* "id: " + 20 digits + "\ndata: " + line + "\n\n" per event. */
    size_t cap = 64;
    for (uint64_t s = first; s < l->next_seq; s++)
        cap += 40 + l->sizes[s % l->cap];
    char *buf = eos_malloc(cap);
    if (!buf) {
        rc = EOS_ENOMEM;
        goto out;
    }
    size_t n = (size_t)snprintf(buf, cap, "retry: %u\n\n", retry_ms);
    for (uint64_t s = first; s < l->next_seq; s++) {
        size_t slot = (size_t)(s % l->cap);
        n += (size_t)snprintf(buf + n, cap - n, "id: %llu\ndata: ", (unsigned long long)s);
        memcpy(buf + n, l->lines[slot], l->sizes[slot]);
        n += l->sizes[slot];
        memcpy(buf + n, "\n\n", 3);
        n += 2;
    }
    /* Shrunk to its length so eos_free(*out, *out_size + 1) is exact. */
    char *fit = eos_realloc(buf, cap, n + 1);
    if (!fit) {
        eos_free(buf, cap);
        rc = EOS_ENOMEM;
        goto out;
    }
    *out = fit;
    *out_size = n;
out:
    pthread_mutex_unlock(&l->lock);
    return rc;
}
