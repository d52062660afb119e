/* The function type the wasm_call mapping tests and fuzzer convert to: one
 * parameter of each kind of component value. */
#ifndef EOS_TESTS_NET_CALLVAL_TYPES_H
#define EOS_TESTS_NET_CALLVAL_TYPES_H

#define CALLVAL_WIT                                                                                \
    "record point { x: s32, y: s32 }\n"                                                            \
    "variant shape { square(u32), rect(tuple<u32, u32>), empty }\n"                                \
    "enum color { red, green, blue }\n"                                                            \
    "flags perms { read, write, exec }\n"

#define CALLVAL_SIG                                                                                \
    "func(a: bool, b: s8, c: u64, d: s64, e: f32, f: f64, g: char, h: string, "                   \
    "i: list<u8>, j: list<string>, k: tuple<u32, string>, l: point, m: shape, n: color, "         \
    "o: option<u32>, p: option<option<u32>>, q: result<u32, string>, r: result, s: perms)"

#endif
