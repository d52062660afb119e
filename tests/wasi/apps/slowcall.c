/* spin: func(n: u64) -> u64  ==  (i64) -> i64: n rounds of a little
 * arithmetic the compiler cannot fold away, so a wasm_call lasts as long as
 * the caller wants (bounded by the app's fuel). */
#include <stdint.h>

__attribute__((export_name("spin"))) uint64_t spin(uint64_t n)
{
    volatile uint64_t x = 1;
    for (uint64_t i = 0; i < n; i++)
        x = x * 6364136223846793005ull + 1442695040888963407ull;
    return x;
}
