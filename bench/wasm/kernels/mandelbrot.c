/* Floating-point kernel in registers: escape-time Mandelbrot over a grid.
 * Measures f64 arithmetic, compares and branches with almost no memory use. */
#include "bench.h"

#define SIDE 64
#define MAX_ITER 200

/* One unit renders a 64x64 grid with up to 200 iterations per point, the
 * window shifting slightly each unit. The checksum counts iterations. */
static uint64_t bench_kernel(uint32_t scale)
{
    uint64_t h = 0;
    for (uint32_t r = 0; r < scale; r++) {
        double shift = (double)(r % 16) / 1024.0;
        uint64_t total = 0;
        for (int py = 0; py < SIDE; py++) {
            double ci = -1.25 + 2.5 * py / SIDE + shift;
            for (int px = 0; px < SIDE; px++) {
                double cr = -2.0 + 2.5 * px / SIDE - shift;
                double zr = 0, zi = 0, zr2 = 0, zi2 = 0;
                int it = 0;
                while (it < MAX_ITER && zr2 + zi2 <= 4.0) {
                    zi = 2.0 * zr * zi + ci;
                    zr = zr2 - zi2 + cr;
                    zr2 = zr * zr;
                    zi2 = zi * zi;
                    it++;
                }
                total += (uint64_t)it;
            }
        }
        h = bench_mix(h, total);
    }
    return h;
}
