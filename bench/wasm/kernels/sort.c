/* Sorting pseudo-random 32-bit ints: quicksort (median of three, insertion
 * sort for short runs) and heapsort on copies of the same array. Measures
 * unpredictable branches, indexed loads and stores, and recursion. */
#include "bench.h"

#define COUNT 8192

static int32_t input[COUNT], work[COUNT];

static void insertion(int32_t *v, int32_t lo, int32_t hi)
{
    for (int32_t i = lo + 1; i <= hi; i++) {
        int32_t x = v[i], j = i - 1;
        while (j >= lo && v[j] > x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
}

static void quicksort(int32_t *v, int32_t lo, int32_t hi)
{
    while (hi - lo > 16) {
        int32_t mid = lo + (hi - lo) / 2;
        int32_t a = v[lo], b = v[mid], c = v[hi];
        int32_t pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        int32_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                int32_t t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        }
        /* Recurse into the smaller half so depth stays logarithmic. */
        if (j - lo < hi - i) {
            quicksort(v, lo, j);
            lo = i;
        } else {
            quicksort(v, i, hi);
            hi = j;
        }
    }
    insertion(v, lo, hi);
}

static void sift_down(int32_t *v, uint32_t root, uint32_t n)
{
    int32_t x = v[root];
    for (;;) {
        uint32_t child = 2 * root + 1;
        if (child >= n)
            break;
        if (child + 1 < n && v[child + 1] > v[child])
            child++;
        if (v[child] <= x)
            break;
        v[root] = v[child];
        root = child;
    }
    v[root] = x;
}

static void heapsort(int32_t *v, uint32_t n)
{
    for (uint32_t i = n / 2; i-- > 0;)
        sift_down(v, i, n);
    for (uint32_t end = n - 1; end > 0; end--) {
        int32_t t = v[0];
        v[0] = v[end];
        v[end] = t;
        sift_down(v, 0, end);
    }
}

static uint64_t digest(const int32_t *v)
{
    uint64_t h = 0;
    for (uint32_t i = 0; i < COUNT; i += 61)
        h = bench_mix(h, (uint32_t)v[i]);
    for (uint32_t i = 1; i < COUNT; i++)
        if (v[i - 1] > v[i])
            return 0; /* not sorted: a checksum no correct run produces */
    return h;
}

/* One unit generates 8192 ints and sorts them with both algorithms. */
static uint64_t bench_kernel(uint32_t scale)
{
    uint64_t seed = 7;
    uint64_t h = 0;
    for (uint32_t r = 0; r < scale; r++) {
        for (uint32_t i = 0; i < COUNT; i++)
            input[i] = (int32_t)(bench_rand(&seed) >> 32);
        for (uint32_t i = 0; i < COUNT; i++)
            work[i] = input[i];
        quicksort(work, 0, COUNT - 1);
        h = bench_mix(h, digest(work));
        heapsort(input, COUNT);
        h = bench_mix(h, digest(input));
    }
    return h;
}
