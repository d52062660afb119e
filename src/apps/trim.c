/* Giving pooled instances back: a thread that wakes every half idle period
 * and frees every app's instances unused for longer, so an app that stops
 * receiving requests shrinks to nothing without waiting for one. */
#include <time.h>

#include "internal.h"

static void *trimmer(void *arg)
{
    eos_apps *t = arg;
    pthread_mutex_lock(&t->trim_lock);
    while (!t->trim_stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        uint64_t ns = (uint64_t)until.tv_nsec + (uint64_t)t->pool_idle_ms * 500000u;
        until.tv_sec += (time_t)(ns / 1000000000u);
        until.tv_nsec = (long)(ns % 1000000000u);
        pthread_cond_timedwait(&t->trim_cond, &t->trim_lock, &until);
        if (t->trim_stop)
            break;
        pthread_mutex_unlock(&t->trim_lock);
        eos_apps_app **v = NULL;
        size_t n = 0;
        if (eos_apps__snapshot(t, &v, &n) == 0) {
            for (size_t i = 0; i < n; i++)
                eos_wasi_app_trim(v[i]->wapp, t->pool_idle_ms);
            eos_apps__snapshot_free(v, n);
        }
        pthread_mutex_lock(&t->trim_lock);
    }
    pthread_mutex_unlock(&t->trim_lock);
    return NULL;
}

int eos_apps__trimmer_start(eos_apps *t)
{
    pthread_mutex_init(&t->trim_lock, NULL);
    pthread_cond_init(&t->trim_cond, NULL);
    t->trim_inited = 1;
    if (!t->pool_size)
        return 0;
    if (pthread_create(&t->trim_thread, NULL, trimmer, t) != 0)
        return EOS_ESYS;
    t->trim_running = 1;
    return 0;
}

void eos_apps__trimmer_stop(eos_apps *t)
{
    if (!t->trim_inited)
        return;
    if (t->trim_running) {
        pthread_mutex_lock(&t->trim_lock);
        t->trim_stop = 1;
        pthread_cond_signal(&t->trim_cond);
        pthread_mutex_unlock(&t->trim_lock);
        pthread_join(t->trim_thread, NULL);
    }
    pthread_cond_destroy(&t->trim_cond);
    pthread_mutex_destroy(&t->trim_lock);
}
