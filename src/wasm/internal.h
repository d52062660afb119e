/* Private declarations of the WebAssembly engine: the internal instruction
 * set (one X-macro), the decoded module, the run-time objects and the entry
 * points shared by decode.c, validate.c, exec.c, runtime.c and api.c. */
#ifndef EOS_WASM_INTERNAL_H
#define EOS_WASM_INTERNAL_H

#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "eos/wasm.h"

/* The internal instruction set. Function bodies are translated into arrays of
 * 32-bit words: an opcode followed by its decoded immediates. Every value
 * takes one 64-bit slot; i32/f32 values are kept zero-extended. Branch
 * targets are word indices into the function's code; "dst" is a slot index
 * relative to the frame pointer (locals first, then the operand stack).
 * X(NAME, wasm encoding (0xFCnn for prefixed, -1 internal), signature of
 * simple numeric ops or NULL, meaning). Signatures: i=i32 I=i64 f=f32 F=f64. */
#define EOS_WASM_OPS(X)                                                                            \
    X(UNREACHABLE, 0x00, NULL, "trap: unreachable executed")                                       \
    X(BR, -1, NULL, "T: ip := T")                                                                  \
    X(BR_MOVE, -1, NULL, "T D N: move top N slots to fp[D..], sp := fp+D+N, ip := T")              \
    X(BR_IF, -1, NULL, "T: pop c; if c, ip := T")                                                  \
    X(BR_IF_MOVE, -1, NULL, "T D N: pop c; if c, BR_MOVE T D N")                                   \
    X(BR_UNLESS, -1, NULL, "T: pop c; if !c, ip := T")                                             \
    X(BR_TABLE, -1, NULL, "N (T D A)*(N+1): pop i; branch to entry min(i, N)")                     \
    X(RETURN, -1, NULL, "copy results to fp[0..], pop the frame")                                  \
    X(CALL, -1, NULL, "F: call function F of this module (defined, not imported)")                 \
    X(CALL_IMPORT, -1, NULL, "F: call imported function F through the instance")                   \
    X(CALL_INDIRECT, -1, NULL, "Y T: pop i; call table T [i] checking type Y")                     \
    X(RETURN_CALL, -1, NULL, "F: tail-call function F")                                            \
    X(RETURN_CALL_INDIRECT, -1, NULL, "Y T: tail-call table T [pop] checking type Y")              \
    X(FUEL, -1, NULL, "charge one unit of fuel (loop headers)")                                    \
    X(DROP, 0x1a, NULL, "sp -= 1")                                                                 \
    X(SELECT, 0x1b, NULL, "pop c b a; push c ? a : b")                                             \
    X(LOCAL_GET, 0x20, NULL, "L: push fp[L]")                                                      \
    X(LOCAL_SET, 0x21, NULL, "L: fp[L] := pop")                                                    \
    X(LOCAL_TEE, 0x22, NULL, "L: fp[L] := top")                                                    \
    X(GLOBAL_GET, 0x23, NULL, "G: push global G")                                                  \
    X(GLOBAL_SET, 0x24, NULL, "G: global G := pop")                                                \
    X(TABLE_GET, 0x25, NULL, "T: push table T [pop]")                                              \
    X(TABLE_SET, 0x26, NULL, "T: pop v i; table T [i] := v")                                       \
    X(LOAD32, 0x28, NULL, "O: push zero-extended 32-bit load at pop+O (i32, f32)")                 \
    X(LOAD64, 0x29, NULL, "O: push 64-bit load at pop+O (i64, f64)")                               \
    X(LOAD8_S32, 0x2c, NULL, "O: i32.load8_s")                                                     \
    X(LOAD8_U, 0x2d, NULL, "O: i32.load8_u and i64.load8_u")                                       \
    X(LOAD16_S32, 0x2e, NULL, "O: i32.load16_s")                                                   \
    X(LOAD16_U, 0x2f, NULL, "O: i32.load16_u and i64.load16_u")                                    \
    X(LOAD8_S64, 0x30, NULL, "O: i64.load8_s")                                                     \
    X(LOAD16_S64, 0x32, NULL, "O: i64.load16_s")                                                   \
    X(LOAD32_S64, 0x34, NULL, "O: i64.load32_s")                                                   \
    X(STORE32, 0x36, NULL, "O: pop v a; store low 32 bits of v at a+O")                            \
    X(STORE64, 0x37, NULL, "O: pop v a; store v at a+O")                                           \
    X(STORE8, 0x3a, NULL, "O: pop v a; store low 8 bits")                                          \
    X(STORE16, 0x3b, NULL, "O: pop v a; store low 16 bits")                                        \
    X(MEM_LOAD, -1, NULL, "K M O: load of wasm kind K from memory M (multi-memory)")               \
    X(MEM_STORE, -1, NULL, "K M O: store of wasm kind K to memory M (multi-memory)")               \
    X(MEMORY_SIZE, 0x3f, NULL, "M: push pages of memory M")                                        \
    X(MEMORY_GROW, 0x40, NULL, "M: pop n; grow memory M, push old pages or -1")                    \
    X(CONST32, 0x41, NULL, "V: push 32-bit constant V")                                            \
    X(CONST64, 0x42, NULL, "LO HI: push 64-bit constant")                                          \
    X(I32_EQZ, 0x45, "i:i", "i32.eqz")                                                             \
    X(I32_EQ, 0x46, "ii:i", "i32.eq")                                                              \
    X(I32_NE, 0x47, "ii:i", "i32.ne")                                                              \
    X(I32_LT_S, 0x48, "ii:i", "i32.lt_s")                                                          \
    X(I32_LT_U, 0x49, "ii:i", "i32.lt_u")                                                          \
    X(I32_GT_S, 0x4a, "ii:i", "i32.gt_s")                                                          \
    X(I32_GT_U, 0x4b, "ii:i", "i32.gt_u")                                                          \
    X(I32_LE_S, 0x4c, "ii:i", "i32.le_s")                                                          \
    X(I32_LE_U, 0x4d, "ii:i", "i32.le_u")                                                          \
    X(I32_GE_S, 0x4e, "ii:i", "i32.ge_s")                                                          \
    X(I32_GE_U, 0x4f, "ii:i", "i32.ge_u")                                                          \
    X(I64_EQZ, 0x50, "I:i", "i64.eqz")                                                             \
    X(I64_EQ, 0x51, "II:i", "i64.eq")                                                              \
    X(I64_NE, 0x52, "II:i", "i64.ne")                                                              \
    X(I64_LT_S, 0x53, "II:i", "i64.lt_s")                                                          \
    X(I64_LT_U, 0x54, "II:i", "i64.lt_u")                                                          \
    X(I64_GT_S, 0x55, "II:i", "i64.gt_s")                                                          \
    X(I64_GT_U, 0x56, "II:i", "i64.gt_u")                                                          \
    X(I64_LE_S, 0x57, "II:i", "i64.le_s")                                                          \
    X(I64_LE_U, 0x58, "II:i", "i64.le_u")                                                          \
    X(I64_GE_S, 0x59, "II:i", "i64.ge_s")                                                          \
    X(I64_GE_U, 0x5a, "II:i", "i64.ge_u")                                                          \
    X(F32_EQ, 0x5b, "ff:i", "f32.eq")                                                              \
    X(F32_NE, 0x5c, "ff:i", "f32.ne")                                                              \
    X(F32_LT, 0x5d, "ff:i", "f32.lt")                                                              \
    X(F32_GT, 0x5e, "ff:i", "f32.gt")                                                              \
    X(F32_LE, 0x5f, "ff:i", "f32.le")                                                              \
    X(F32_GE, 0x60, "ff:i", "f32.ge")                                                              \
    X(F64_EQ, 0x61, "FF:i", "f64.eq")                                                              \
    X(F64_NE, 0x62, "FF:i", "f64.ne")                                                              \
    X(F64_LT, 0x63, "FF:i", "f64.lt")                                                              \
    X(F64_GT, 0x64, "FF:i", "f64.gt")                                                              \
    X(F64_LE, 0x65, "FF:i", "f64.le")                                                              \
    X(F64_GE, 0x66, "FF:i", "f64.ge")                                                              \
    X(I32_CLZ, 0x67, "i:i", "i32.clz")                                                             \
    X(I32_CTZ, 0x68, "i:i", "i32.ctz")                                                             \
    X(I32_POPCNT, 0x69, "i:i", "i32.popcnt")                                                       \
    X(I32_ADD, 0x6a, "ii:i", "i32.add")                                                            \
    X(I32_SUB, 0x6b, "ii:i", "i32.sub")                                                            \
    X(I32_MUL, 0x6c, "ii:i", "i32.mul")                                                            \
    X(I32_DIV_S, 0x6d, "ii:i", "i32.div_s (traps on 0 and overflow)")                              \
    X(I32_DIV_U, 0x6e, "ii:i", "i32.div_u (traps on 0)")                                           \
    X(I32_REM_S, 0x6f, "ii:i", "i32.rem_s (traps on 0)")                                           \
    X(I32_REM_U, 0x70, "ii:i", "i32.rem_u (traps on 0)")                                           \
    X(I32_AND, 0x71, "ii:i", "i32.and")                                                            \
    X(I32_OR, 0x72, "ii:i", "i32.or")                                                              \
    X(I32_XOR, 0x73, "ii:i", "i32.xor")                                                            \
    X(I32_SHL, 0x74, "ii:i", "i32.shl")                                                            \
    X(I32_SHR_S, 0x75, "ii:i", "i32.shr_s")                                                        \
    X(I32_SHR_U, 0x76, "ii:i", "i32.shr_u")                                                        \
    X(I32_ROTL, 0x77, "ii:i", "i32.rotl")                                                          \
    X(I32_ROTR, 0x78, "ii:i", "i32.rotr")                                                          \
    X(I64_CLZ, 0x79, "I:I", "i64.clz")                                                             \
    X(I64_CTZ, 0x7a, "I:I", "i64.ctz")                                                             \
    X(I64_POPCNT, 0x7b, "I:I", "i64.popcnt")                                                       \
    X(I64_ADD, 0x7c, "II:I", "i64.add")                                                            \
    X(I64_SUB, 0x7d, "II:I", "i64.sub")                                                            \
    X(I64_MUL, 0x7e, "II:I", "i64.mul")                                                            \
    X(I64_DIV_S, 0x7f, "II:I", "i64.div_s")                                                        \
    X(I64_DIV_U, 0x80, "II:I", "i64.div_u")                                                        \
    X(I64_REM_S, 0x81, "II:I", "i64.rem_s")                                                        \
    X(I64_REM_U, 0x82, "II:I", "i64.rem_u")                                                        \
    X(I64_AND, 0x83, "II:I", "i64.and")                                                            \
    X(I64_OR, 0x84, "II:I", "i64.or")                                                              \
    X(I64_XOR, 0x85, "II:I", "i64.xor")                                                            \
    X(I64_SHL, 0x86, "II:I", "i64.shl")                                                            \
    X(I64_SHR_S, 0x87, "II:I", "i64.shr_s")                                                        \
    X(I64_SHR_U, 0x88, "II:I", "i64.shr_u")                                                        \
    X(I64_ROTL, 0x89, "II:I", "i64.rotl")                                                          \
    X(I64_ROTR, 0x8a, "II:I", "i64.rotr")                                                          \
    X(F32_ABS, 0x8b, "f:f", "f32.abs (clears the sign bit)")                                       \
    X(F32_NEG, 0x8c, "f:f", "f32.neg (flips the sign bit)")                                        \
    X(F32_CEIL, 0x8d, "f:f", "f32.ceil")                                                           \
    X(F32_FLOOR, 0x8e, "f:f", "f32.floor")                                                         \
    X(F32_TRUNC, 0x8f, "f:f", "f32.trunc")                                                         \
    X(F32_NEAREST, 0x90, "f:f", "f32.nearest (ties to even)")                                      \
    X(F32_SQRT, 0x91, "f:f", "f32.sqrt")                                                           \
    X(F32_ADD, 0x92, "ff:f", "f32.add")                                                            \
    X(F32_SUB, 0x93, "ff:f", "f32.sub")                                                            \
    X(F32_MUL, 0x94, "ff:f", "f32.mul")                                                            \
    X(F32_DIV, 0x95, "ff:f", "f32.div")                                                            \
    X(F32_MIN, 0x96, "ff:f", "f32.min (NaN-propagating, -0 < +0)")                                 \
    X(F32_MAX, 0x97, "ff:f", "f32.max")                                                            \
    X(F32_COPYSIGN, 0x98, "ff:f", "f32.copysign")                                                  \
    X(F64_ABS, 0x99, "F:F", "f64.abs")                                                             \
    X(F64_NEG, 0x9a, "F:F", "f64.neg")                                                             \
    X(F64_CEIL, 0x9b, "F:F", "f64.ceil")                                                           \
    X(F64_FLOOR, 0x9c, "F:F", "f64.floor")                                                         \
    X(F64_TRUNC, 0x9d, "F:F", "f64.trunc")                                                         \
    X(F64_NEAREST, 0x9e, "F:F", "f64.nearest")                                                     \
    X(F64_SQRT, 0x9f, "F:F", "f64.sqrt")                                                           \
    X(F64_ADD, 0xa0, "FF:F", "f64.add")                                                            \
    X(F64_SUB, 0xa1, "FF:F", "f64.sub")                                                            \
    X(F64_MUL, 0xa2, "FF:F", "f64.mul")                                                            \
    X(F64_DIV, 0xa3, "FF:F", "f64.div")                                                            \
    X(F64_MIN, 0xa4, "FF:F", "f64.min")                                                            \
    X(F64_MAX, 0xa5, "FF:F", "f64.max")                                                            \
    X(F64_COPYSIGN, 0xa6, "FF:F", "f64.copysign")                                                  \
    X(I32_WRAP_I64, 0xa7, "I:i", "i32.wrap_i64")                                                   \
    X(I32_TRUNC_F32_S, 0xa8, "f:i", "i32.trunc_f32_s (traps)")                                     \
    X(I32_TRUNC_F32_U, 0xa9, "f:i", "i32.trunc_f32_u (traps)")                                     \
    X(I32_TRUNC_F64_S, 0xaa, "F:i", "i32.trunc_f64_s (traps)")                                     \
    X(I32_TRUNC_F64_U, 0xab, "F:i", "i32.trunc_f64_u (traps)")                                     \
    X(I64_EXTEND_I32_S, 0xac, "i:I", "i64.extend_i32_s")                                           \
    X(I64_EXTEND_I32_U, 0xad, "i:I", "i64.extend_i32_u (slots are zero-extended: no-op)")          \
    X(I64_TRUNC_F32_S, 0xae, "f:I", "i64.trunc_f32_s (traps)")                                     \
    X(I64_TRUNC_F32_U, 0xaf, "f:I", "i64.trunc_f32_u (traps)")                                     \
    X(I64_TRUNC_F64_S, 0xb0, "F:I", "i64.trunc_f64_s (traps)")                                     \
    X(I64_TRUNC_F64_U, 0xb1, "F:I", "i64.trunc_f64_u (traps)")                                     \
    X(F32_CONVERT_I32_S, 0xb2, "i:f", "f32.convert_i32_s")                                         \
    X(F32_CONVERT_I32_U, 0xb3, "i:f", "f32.convert_i32_u")                                         \
    X(F32_CONVERT_I64_S, 0xb4, "I:f", "f32.convert_i64_s")                                         \
    X(F32_CONVERT_I64_U, 0xb5, "I:f", "f32.convert_i64_u")                                         \
    X(F32_DEMOTE_F64, 0xb6, "F:f", "f32.demote_f64")                                               \
    X(F64_CONVERT_I32_S, 0xb7, "i:F", "f64.convert_i32_s")                                         \
    X(F64_CONVERT_I32_U, 0xb8, "i:F", "f64.convert_i32_u")                                         \
    X(F64_CONVERT_I64_S, 0xb9, "I:F", "f64.convert_i64_s")                                         \
    X(F64_CONVERT_I64_U, 0xba, "I:F", "f64.convert_i64_u")                                         \
    X(F64_PROMOTE_F32, 0xbb, "f:F", "f64.promote_f32")                                             \
    X(I32_REINTERPRET_F32, 0xbc, "f:i", "i32.reinterpret_f32 (no-op)")                             \
    X(I64_REINTERPRET_F64, 0xbd, "F:I", "i64.reinterpret_f64 (no-op)")                             \
    X(F32_REINTERPRET_I32, 0xbe, "i:f", "f32.reinterpret_i32 (no-op)")                             \
    X(F64_REINTERPRET_I64, 0xbf, "I:F", "f64.reinterpret_i64 (no-op)")                             \
    X(I32_EXTEND8_S, 0xc0, "i:i", "i32.extend8_s")                                                 \
    X(I32_EXTEND16_S, 0xc1, "i:i", "i32.extend16_s")                                               \
    X(I64_EXTEND8_S, 0xc2, "I:I", "i64.extend8_s")                                                 \
    X(I64_EXTEND16_S, 0xc3, "I:I", "i64.extend16_s")                                               \
    X(I64_EXTEND32_S, 0xc4, "I:I", "i64.extend32_s")                                               \
    X(REF_IS_NULL, 0xd1, NULL, "push pop == null")                                                 \
    /* threads (atomics, 0xfe prefix) and wide arithmetic (0xfc 19..22) */                      \
    X(ATOMIC, -1, NULL, "S M O: atomic 0xfe S on memory M at offset O (exec_atomic.c)")            \
    X(WIDE, -1, NULL, "S: wide arithmetic 0xfc S on i64 pairs (wide.c)")                           \
    /* memory64, table64, custom page sizes */                                                     \
    X(MEM64, -1, NULL, "S N ...: 64-bit address or custom page size operation S (exec_mem64.c)")   \
    /* exception handling (exec_eh.c, validate_eh.c) */                                          \
    X(TRY_TABLE, -1, NULL, "N (K X T D C)*N: handlers of the body that follows; ip += 2 + 5N")     \
    X(THROW, 0x08, NULL, "X: pop the payload of tag X, throw a new exception")                     \
    X(THROW_REF, 0x0a, NULL, "pop an exnref, throw it again (null traps)")                         \
    X(RETHROW, 0x09, NULL, "K: throw again what legacy catch block K (nesting) caught")            \
    /* function references (reftype.c, validate_funcref.c) */                                     \
    X(CALL_REF, 0x14, NULL, "pop r; trap if null; call function r")                               \
    X(RETURN_CALL_REF, 0x15, NULL, "pop r; trap if null; tail-call function r")                   \
    X(REF_AS_NON_NULL, 0xd4, NULL, "trap if the top reference is null")                           \
    X(BR_ON_NULL, 0xd5, NULL, "T D N: if top is null, pop it and BR_MOVE T D N")                  \
    X(BR_ON_NON_NULL, 0xd6, NULL, "T D N: if top is not null, BR_MOVE T D N; else pop it")        \
    X(SIMD, -1, NULL, "S N ...: v128 instruction 0xfd S, N words in all (exec_simd.c)")            \
    X(V128_CONST, -1, NULL, "W0 W1 W2 W3: push a v128 constant (two slots)")                       \
    X(LOCAL_GET_V128, -1, NULL, "L: push fp[L], fp[L+1]")                                          \
    X(LOCAL_SET_V128, -1, NULL, "L: fp[L], fp[L+1] := pop two")                                    \
    X(LOCAL_TEE_V128, -1, NULL, "L: fp[L], fp[L+1] := top two")                                    \
    X(GLOBAL_GET_V128, -1, NULL, "G: push v128 global G")                                          \
    X(GLOBAL_SET_V128, -1, NULL, "G: v128 global G := pop two")                                    \
    X(SELECT_V128, -1, NULL, "pop c b a (v128 a, b); push c ? a : b")                              \
    X(REF_FUNC, 0xd2, NULL, "F: push a reference to function F")                                   \
    X(I32_TRUNC_SAT_F32_S, 0xfc00, "f:i", "i32.trunc_sat_f32_s")                                   \
    X(I32_TRUNC_SAT_F32_U, 0xfc01, "f:i", "i32.trunc_sat_f32_u")                                   \
    X(I32_TRUNC_SAT_F64_S, 0xfc02, "F:i", "i32.trunc_sat_f64_s")                                   \
    X(I32_TRUNC_SAT_F64_U, 0xfc03, "F:i", "i32.trunc_sat_f64_u")                                   \
    X(I64_TRUNC_SAT_F32_S, 0xfc04, "f:I", "i64.trunc_sat_f32_s")                                   \
    X(I64_TRUNC_SAT_F32_U, 0xfc05, "f:I", "i64.trunc_sat_f32_u")                                   \
    X(I64_TRUNC_SAT_F64_S, 0xfc06, "F:I", "i64.trunc_sat_f64_s")                                   \
    X(I64_TRUNC_SAT_F64_U, 0xfc07, "F:I", "i64.trunc_sat_f64_u")                                   \
    X(MEMORY_INIT, 0xfc08, NULL, "D M: pop n s d; copy data segment D into memory M")              \
    X(DATA_DROP, 0xfc09, NULL, "D: drop data segment D")                                           \
    X(MEMORY_COPY, 0xfc0a, NULL, "MD MS: pop n s d; copy within/between memories")                 \
    X(MEMORY_FILL, 0xfc0b, NULL, "M: pop n v d; fill memory M")                                    \
    X(TABLE_INIT, 0xfc0c, NULL, "E T: pop n s d; copy element segment E into table T")             \
    X(ELEM_DROP, 0xfc0d, NULL, "E: drop element segment E")                                        \
    X(TABLE_COPY, 0xfc0e, NULL, "TD TS: pop n s d; copy between tables")                           \
    X(TABLE_GROW, 0xfc0f, NULL, "T: pop n v; grow table T, push old size or -1")                   \
    X(TABLE_SIZE, 0xfc10, NULL, "T: push size of table T")                                         \
    X(TABLE_FILL, 0xfc11, NULL, "T: pop n v i; fill table T")                                      \
    X(I32_ADD_L, -1, NULL, "L: i32.add with the right operand local L")                            \
    X(I32_ADD_C, -1, NULL, "K: i32.add with the right operand constant K")                         \
    X(I32_SUB_L, -1, NULL, "L: i32.sub with the right operand local L")                            \
    X(I32_SUB_C, -1, NULL, "K: i32.sub with the right operand constant K")                         \
    X(I32_MUL_L, -1, NULL, "L: i32.mul with the right operand local L")                            \
    X(I32_MUL_C, -1, NULL, "K: i32.mul with the right operand constant K")                         \
    X(I32_AND_L, -1, NULL, "L: i32.and with the right operand local L")                            \
    X(I32_AND_C, -1, NULL, "K: i32.and with the right operand constant K")                         \
    X(I32_OR_L, -1, NULL, "L: i32.or with the right operand local L")                              \
    X(I32_OR_C, -1, NULL, "K: i32.or with the right operand constant K")                           \
    X(I32_XOR_L, -1, NULL, "L: i32.xor with the right operand local L")                            \
    X(I32_XOR_C, -1, NULL, "K: i32.xor with the right operand constant K")                         \
    X(I32_SHL_L, -1, NULL, "L: i32.shl with the right operand local L")                            \
    X(I32_SHL_C, -1, NULL, "K: i32.shl with the right operand constant K")                         \
    X(I32_SHR_S_L, -1, NULL, "L: i32.shr_s with the right operand local L")                        \
    X(I32_SHR_S_C, -1, NULL, "K: i32.shr_s with the right operand constant K")                     \
    X(I32_SHR_U_L, -1, NULL, "L: i32.shr_u with the right operand local L")                        \
    X(I32_SHR_U_C, -1, NULL, "K: i32.shr_u with the right operand constant K")                     \
    X(I64_ADD_L, -1, NULL, "L: i64.add with the right operand local L")                            \
    X(I64_SUB_L, -1, NULL, "L: i64.sub with the right operand local L")                            \
    X(I64_MUL_L, -1, NULL, "L: i64.mul with the right operand local L")                            \
    X(I64_AND_L, -1, NULL, "L: i64.and with the right operand local L")                            \
    X(I64_OR_L, -1, NULL, "L: i64.or with the right operand local L")                              \
    X(I64_XOR_L, -1, NULL, "L: i64.xor with the right operand local L")                            \
    X(I64_SHL_L, -1, NULL, "L: i64.shl with the right operand local L")                            \
    X(I64_SHR_U_L, -1, NULL, "L: i64.shr_u with the right operand local L")                        \
    X(I32_ROTL_C, -1, NULL, "K: i32.rotl with the right operand constant K")                       \
    X(I64_ADD_C, -1, NULL, "LO HI: i64.add with the right operand constant")                       \
    X(I64_SUB_C, -1, NULL, "LO HI: i64.sub with the right operand constant")                       \
    X(I64_MUL_C, -1, NULL, "LO HI: i64.mul with the right operand constant")                       \
    X(I64_AND_C, -1, NULL, "LO HI: i64.and with the right operand constant")                       \
    X(I64_OR_C, -1, NULL, "LO HI: i64.or with the right operand constant")                         \
    X(I64_XOR_C, -1, NULL, "LO HI: i64.xor with the right operand constant")                       \
    X(I64_SHL_C, -1, NULL, "LO HI: i64.shl with the right operand constant")                       \
    X(I64_SHR_S_C, -1, NULL, "LO HI: i64.shr_s with the right operand constant")                   \
    X(I64_SHR_U_C, -1, NULL, "LO HI: i64.shr_u with the right operand constant")                   \
    X(I64_ROTL_C, -1, NULL, "LO HI: i64.rotl with the right operand constant")                     \
    X(F64_ADD_L, -1, NULL, "L: f64.add with the right operand local L")                            \
    X(F64_SUB_L, -1, NULL, "L: f64.sub with the right operand local L")                            \
    X(F64_MUL_L, -1, NULL, "L: f64.mul with the right operand local L")                            \
    X(F64_DIV_L, -1, NULL, "L: f64.div with the right operand local L")                            \
    X(F64_ADD_C, -1, NULL, "LO HI: f64.add with the right operand constant")                       \
    X(F64_SUB_C, -1, NULL, "LO HI: f64.sub with the right operand constant")                       \
    X(F64_MUL_C, -1, NULL, "LO HI: f64.mul with the right operand constant")                       \
    X(F64_DIV_C, -1, NULL, "LO HI: f64.div with the right operand constant")                       \
    X(F32_ADD_L, -1, NULL, "L: f32.add with the right operand local L")                            \
    X(F32_SUB_L, -1, NULL, "L: f32.sub with the right operand local L")                            \
    X(F32_MUL_L, -1, NULL, "L: f32.mul with the right operand local L")                            \
    X(F32_DIV_L, -1, NULL, "L: f32.div with the right operand local L")                            \
    X(LOCAL_COPY, -1, NULL, "A B: fp[B] := fp[A] (local.get A local.set B)")                       \
    X(LOCAL_SET_C32, -1, NULL, "K B: fp[B] := K (i32/f32.const K local.set B)")                    \
    X(BR_IF_F64_LT, -1, NULL, "T: pop b a; if a < b (f64), ip := T")                               \
    X(BR_IF_F64_GT, -1, NULL, "T: pop b a; if a > b (f64), ip := T")                               \
    X(BR_IF_F64_LE, -1, NULL, "T: pop b a; if a <= b (f64), ip := T")                              \
    X(BR_IF_F64_GE, -1, NULL, "T: pop b a; if a >= b (f64), ip := T")                              \
    X(BR_IF_F64_EQ, -1, NULL, "T: pop b a; if a == b (f64), ip := T")                              \
    X(BR_IF_F64_NE, -1, NULL, "T: pop b a; if a != b (f64), ip := T")                              \
    X(LOCAL_TEE_GET, -1, NULL, "A B: fp[A] := top; push fp[B] (local.tee local.get)")              \
    X(LC_LOAD32, -1, NULL, "A K O: push 32-bit load at (u32)(fp[A] + K) + O")                      \
    X(LC_LOAD8_U, -1, NULL, "A K O: push byte load at (u32)(fp[A] + K) + O")                       \
    X(LL_I32_ADD, -1, NULL, "A B: push fp[A] + fp[B] (local.get local.get i32.add)")               \
    X(LL_I32_SUB, -1, NULL, "A B: push fp[A] - fp[B]")                                             \
    X(LC_I32_ADD, -1, NULL, "A V: push fp[A] + V (local.get i32.const i32.add)")                   \
    X(LC_I32_ADD_SET, -1, NULL, "A V L: fp[L] := fp[A] + V")                                       \
    X(L_LOAD32, -1, NULL, "A O: push 32-bit load at fp[A]+O (local.get i32.load)")                 \
    X(BR_IF_I32_EQZ, -1, NULL, "T: pop c; if c == 0, ip := T (i32.eqz br_if)")                     \
    X(BR_IF_I32_NE, -1, NULL, "T: pop b a; if a != b, ip := T")                                    \
    X(BR_IF_I32_EQ, -1, NULL, "T: pop b a; if a == b, ip := T")                                    \
    X(BR_IF_I32_LT_S, -1, NULL, "T: pop b a; if a < b (signed), ip := T")                          \
    X(BR_IF_I32_LT_U, -1, NULL, "T: pop b a; if a < b (unsigned), ip := T")                        \
    X(BR_IF_I32_GE_S, -1, NULL, "T: pop b a; if a >= b (signed), ip := T")                         \
    X(BR_IF_I32_GE_U, -1, NULL, "T: pop b a; if a >= b (unsigned), ip := T")                       \
    X(BR_IF_I32_GT_S, -1, NULL, "T: pop b a; if a > b (signed), ip := T")                          \
    X(BR_IF_I32_LE_S, -1, NULL, "T: pop b a; if a <= b (signed), ip := T")                         \
    X(BR_IF_I32_GT_U, -1, NULL, "T: pop b a; if a > b (unsigned), ip := T")                        \
    X(BR_IF_I32_LE_U, -1, NULL, "T: pop b a; if a <= b (unsigned), ip := T")                       \
    X(BR_IF_I32_NE_L, -1, NULL, "T L: pop a; if a != fp[L] (ne), ip := T")                         \
    X(BR_IF_I32_NE_C, -1, NULL, "T K: pop a; if a != K (ne), ip := T")                             \
    X(BR_IF_I32_EQ_L, -1, NULL, "T L: pop a; if a == fp[L] (eq), ip := T")                         \
    X(BR_IF_I32_EQ_C, -1, NULL, "T K: pop a; if a == K (eq), ip := T")                             \
    X(BR_IF_I32_LT_S_L, -1, NULL, "T L: pop a; if a < fp[L] (lt_s), ip := T")                      \
    X(BR_IF_I32_LT_S_C, -1, NULL, "T K: pop a; if a < K (lt_s), ip := T")                          \
    X(BR_IF_I32_LT_U_L, -1, NULL, "T L: pop a; if a < fp[L] (lt_u), ip := T")                      \
    X(BR_IF_I32_LT_U_C, -1, NULL, "T K: pop a; if a < K (lt_u), ip := T")                          \
    X(BR_IF_I32_GE_S_L, -1, NULL, "T L: pop a; if a >= fp[L] (ge_s), ip := T")                     \
    X(BR_IF_I32_GE_S_C, -1, NULL, "T K: pop a; if a >= K (ge_s), ip := T")                         \
    X(BR_IF_I32_GE_U_L, -1, NULL, "T L: pop a; if a >= fp[L] (ge_u), ip := T")                     \
    X(BR_IF_I32_GE_U_C, -1, NULL, "T K: pop a; if a >= K (ge_u), ip := T")                         \
    X(BR_IF_I32_GT_S_L, -1, NULL, "T L: pop a; if a > fp[L] (gt_s), ip := T")                      \
    X(BR_IF_I32_GT_S_C, -1, NULL, "T K: pop a; if a > K (gt_s), ip := T")                          \
    X(BR_IF_I32_LE_S_L, -1, NULL, "T L: pop a; if a <= fp[L] (le_s), ip := T")                     \
    X(BR_IF_I32_LE_S_C, -1, NULL, "T K: pop a; if a <= K (le_s), ip := T")                         \
    X(BR_IF_I32_GT_U_L, -1, NULL, "T L: pop a; if a > fp[L] (gt_u), ip := T")                      \
    X(BR_IF_I32_GT_U_C, -1, NULL, "T K: pop a; if a > K (gt_u), ip := T")                          \
    X(BR_IF_I32_LE_U_L, -1, NULL, "T L: pop a; if a <= fp[L] (le_u), ip := T")                     \
    X(BR_IF_I32_LE_U_C, -1, NULL, "T K: pop a; if a <= K (le_u), ip := T")

enum eos_wasm__op {
#define EOS__OP_ENUM(name, code, sig, meaning) EOS_WASM_OP_##name,
    EOS_WASM_OPS(EOS__OP_ENUM)
#undef EOS__OP_ENUM
        EOS_WASM_OP_COUNT_
};

/* The validator's type-stack entry above every v128 (which takes two slots). */
#define EOS_WASM__V128_HI 0x01

#define EOS_WASM_PAGE_SIZE 65536u
#define EOS_WASM_MAX_PAGES 65536u

/* A constant expression, kept as the bytes of the module (ending with 0x0b). */
typedef struct eos_wasm__expr {
    uint32_t off;
    uint32_t size;
    uint32_t max_depth; /* operand stack needed to evaluate it */
} eos_wasm__expr;

typedef struct eos_wasm__import {
    const char *module;
    uint32_t module_len;
    const char *name;
    uint32_t name_len;
    uint8_t kind;        /* eos_wasm_externkind */
    uint32_t type_index; /* functions */
    eos_wasm_tabletype table;
    eos_wasm_memorytype memory;
    eos_wasm_globaltype global;
} eos_wasm__import;

typedef struct eos_wasm__export {
    const char *name;
    uint32_t name_len;
    uint8_t kind;
    uint32_t index;
} eos_wasm__export;

typedef struct eos_wasm__global {
    eos_wasm_globaltype type;
    eos_wasm__expr init;
} eos_wasm__global;

enum { EOS_WASM_SEG_ACTIVE = 0, EOS_WASM_SEG_PASSIVE = 1, EOS_WASM_SEG_DECLARATIVE = 2 };

typedef struct eos_wasm__elem {
    uint8_t mode;
    uint8_t elem_type;
    uint32_t table;
    eos_wasm__expr offset;
    uint32_t count;
    uint32_t *funcs;       /* function indices (UINT32_MAX = null) when all items are simple */
    eos_wasm__expr *exprs; /* otherwise one constant expression per item */
} eos_wasm__elem;

typedef struct eos_wasm__data {
    uint8_t mode;
    uint32_t memory;
    eos_wasm__expr offset;
    uint32_t off; /* of the bytes in the module's copy of the input */
    uint32_t size;
} eos_wasm__data;

/* A function body, translated once into the internal form and shared by all
 * instances. */
typedef struct eos_wasm__code {
    uint32_t type_index;
    uint32_t param_count;
    uint32_t result_count;
    uint32_t local_count; /* params included */
    uint32_t frame_slots; /* locals + maximum operand stack height */
    uint32_t body_off;    /* the function body in the module bytes */
    uint32_t body_size;
    uint32_t code_len;
    /* The translated code for the interpreter, opcodes replaced by their
     * handlers' offsets (direct threading): one 32-bit word per word of the
     * translation, which is not kept. */
    uint32_t *threaded;
    uint8_t *local_types; /* local_count entries, freed after validation */
    /* try_table bodies, innermost first (validate_eh.c): eh_count triples
     * (begin, end, handlers) of word indices; NULL when none. */
    uint32_t *eh;
    uint32_t eh_count;
} eos_wasm__code;

/* A module's initialised memory 0: a memfd mapped MAP_PRIVATE into each new
 * instance, or, where that is not available, a copy in the heap. */
typedef struct eos_wasm__image {
    int fd;              /* -1 when the image is copied */
    uint8_t *copy;       /* the image when fd < 0 */
    uint64_t size;       /* bytes, rounded up to the host page */
    const uint8_t *view; /* the memfd mapped read-only, to copy pages back from; or NULL */
} eos_wasm__image;

/* How many freed instances a module keeps for reuse: about one per thread
 * that instantiates it at once. */
#define EOS_WASM__SPARES 4

/* What instantiation needs, computed once at load (plan.c). */
typedef struct eos_wasm__plan {
    uint64_t *data_off;     /* active data segment offsets; UINT64_MAX: evaluate per instance */
    uint64_t *elem_off;     /* the same for element segments */
    uint64_t *global_init;  /* initial values of defined globals with constant initialisers */
    uint8_t *global_const;  /* 1 where global_init holds the value */
    uint32_t *export_slots; /* open-addressing hash of export names: export index + 1 */
    uint32_t export_mask;
    uint8_t *data_dropped; /* with an image: each data segment's flag right after instantiation */
    bool has_image;        /* memory 0 is initialised by mapping image */
    eos_wasm__image image;
    /* Freed instances kept for the next instantiation (instance.c): their
     * per-function records are already written. */
    _Atomic(struct eos_wasm_instance *) spares[EOS_WASM__SPARES];
} eos_wasm__plan;

/* A byte range [off, end) of the module's input. */
typedef struct eos_wasm__range {
    uint32_t off, end;
} eos_wasm__range;

struct eos_wasm_module {
    atomic_long refs;
    eos_wasm__plan plan;
    /* The input while the module is made (borrowed), then a private copy of
     * it without the code section (unless translated lazily) and, when memory 0 has an
     * image and no segment is passive, without the data section: names,
     * data and expressions point here. */
    uint8_t *bytes;
    size_t size;
    bool bytes_borrowed;
    eos_wasm__range code_sec, data_sec;
    uint64_t code_words; /* words of translated code, for eos_wasm_module_code_size */
    struct eos_wasm__chunk *code_chunks; /* where the translated code lives (memory.c) */
    bool lazy; /* functions translated on first call, each into its own buffer */
    eos_wasm_features features;

    eos_wasm_functype *types;
    uint32_t *type_canon; /* first type index structurally equal to each type */
    uint8_t *type_vals;   /* storage of all params/results */
    uint32_t type_count;

    eos_wasm__import *imports;
    uint32_t import_count;

    uint32_t *func_types; /* type index of every function, imported first */
    uint32_t func_count, func_import_count;
    uint8_t *func_declared; /* functions a ref.func may name */

    eos_wasm_tabletype *tables;
    uint32_t table_count, table_import_count;
    eos_wasm_memorytype *memories;
    uint32_t memory_count, memory_import_count;
    eos_wasm__global *globals;
    uint32_t global_count, global_import_count;

    eos_wasm__export *exports;
    uint32_t export_count;
    int64_t start; /* -1 when none */

    eos_wasm__elem *elems;
    uint32_t elem_count;
    /* Exception handling: the type index of every tag, imported first; the
     * compiled tier declines modules that use it (uses_eh). */
    uint32_t *tag_types;
    uint32_t tag_count, tag_import_count;
    bool uses_eh;
    eos_wasm__data *datas;
    uint32_t data_count;
    bool has_data_count;
    /* Some type, local or instruction uses v128 (SIMD): set by decode and
     * validate; the compiled tier declines such modules. */
    bool uses_v128;
    /* Some memory or table has 64-bit addresses or a memory has custom
     * pages: its instructions take the general path of validate_mem64.c. */
    bool uses_mem64;
    /* Typed references (reftype.c): value-type codes from EOS_WASM__RT_FIRST
     * name entries of reftypes; table_inits holds the initializer of each
     * defined table declared with one (size 0: none). */
    struct eos_wasm__reftype *reftypes;
    uint32_t reftype_count;
    eos_wasm__expr *table_inits;
    /* The function types as the API shows them (typed references as
     * funcref/externref); NULL when no type has a typed reference. */
    eos_wasm_functype *types_public;
    uint8_t *types_public_vals;

    eos_wasm__code *codes;
    uint32_t code_count;

    /* The compiled tier (jit.c): the code, published once compiled. */
    _Atomic(struct eos_wasm__jit *) jit;
    atomic_int jit_state;       /* eos_wasm_compile_state */
    atomic_uint jit_warm_calls; /* host calls seen while warming (partial compilation) */
    bool jit_partial;           /* tier auto compiles only the functions that ran (jit.c) */
};

/* ---- run-time objects -------------------------------------------------- */

enum { EOS_WASM__OBJ_FUNC, EOS_WASM__OBJ_MEM, EOS_WASM__OBJ_TABLE, EOS_WASM__OBJ_GLOBAL };

typedef struct eos_wasm__obj {
    struct eos_wasm__obj *next;
    uint8_t kind;
} eos_wasm__obj;

struct eos_wasm_func {
    const eos_wasm_functype *type;
    eos_wasm_instance *inst;    /* NULL for host functions */
    const eos_wasm__code *code; /* NULL for host functions */
    eos_wasm_host_fn host;
    void *ud;
    eos_wasm_store *store; /* objects never cross stores: links are checked */
    /* Compiled instances only: the function's native code, called with the
     * typed ABI of jit_translate.c (jit_fn) or with slots (jit_entry). */
    void *jit_fn;
    void *jit_entry;
};

/* A host function owns its type and is a store object; functions defined by
 * a module are plain eos_wasm_func records in their instance, kept small
 * because instantiation writes one per function. */
typedef struct eos_wasm__host_func {
    eos_wasm__obj obj;
    eos_wasm_functype own_type;
    eos_wasm_func f;
} eos_wasm__host_func;

struct eos_wasm_memory {
    eos_wasm__obj obj;
    eos_wasm_store *store;
    uint8_t *data;
    uint64_t size;        /* bytes */
    uint64_t reserved;    /* bytes of address space mapped at data; 0: in the heap (memory.c) */
    uint64_t cap_reserve; /* the most address space it may reserve */
    uint64_t max_pages;
    eos_wasm_memorytype type;
    bool guarded;                         /* a guard reservation (guard.c): PROT_NONE past size */
    const struct eos_wasm__image *mapped; /* the image mapped at data, if any (memory.c) */
};

struct eos_wasm_table {
    eos_wasm__obj obj;
    void **elems;
    uint64_t size;
    uint64_t max;
    eos_wasm_tabletype type;
    eos_wasm_store *store;
    /* A table of a module: its element type there (type holds the public
     * one, funcref or externref). NULL for tables made by the host. */
    const eos_wasm_module *ref_mod;
    uint8_t ref_type;
    /* Set by every write to elems since the store's snapshot, so that a
     * restore copies back only the tables a request wrote. */
    bool written;
};

struct eos_wasm_global {
    eos_wasm__obj obj;
    eos_wasm_store *store;
    uint64_t val;
    uint64_t val_hi; /* v128 globals: bytes 8..15 (val holds 0..7) */
    eos_wasm_globaltype type;
    const eos_wasm_module *ref_mod; /* as for tables */
    uint8_t ref_type;
};

struct eos_wasm_instance {
    eos_wasm_instance *next;
    eos_wasm_store *store;
    eos_wasm_module *module;
    eos_wasm_func **funcs;
    eos_wasm_table **tables;
    eos_wasm_memory **memories;
    eos_wasm_global **globals;
    eos_wasm_tag **tags; /* exception handling: NULL without tags */
    eos_wasm_func *own_funcs;
    uint8_t *elem_dropped;
    uint8_t *data_dropped;
    uint8_t tier; /* EOS_WASM__RUN_*: chosen on the instance's first call */
};

enum { EOS_WASM__RUN_UNSET = 0, EOS_WASM__RUN_INTERP = 1, EOS_WASM__RUN_COMPILED = 2 };

typedef struct eos_wasm__frame {
    const uint32_t *ip;
    uint64_t *fp;
    const eos_wasm__code *code;
    eos_wasm_instance *inst;
} eos_wasm__frame;

/* snapshot.c: the recorded state of a store (eos_wasm_store_snapshot). */
typedef struct eos_wasm__snapshot eos_wasm__snapshot;
void eos_wasm__snapshot_free(eos_wasm__snapshot *sn);
/* instance.c: frees the instances kept in m->plan.spares. */
void eos_wasm__spares_free(eos_wasm_module *m);

struct eos_wasm_store {
    eos_wasm_limits limits;
    eos_wasm__snapshot *snapshot; /* NULL until eos_wasm_store_snapshot */
    void *data;
    eos_wasm__obj *objs;
    eos_wasm_instance *instances;
    uint64_t memory_total; /* bytes of all linear memories */

    /* Fuel remaining is fuel + fuel_bank: the interpreter's counter gets
     * one slice at a time, so the deadline and interruption are checked at
     * the end of each slice, never in the dispatch loop itself. */
    int64_t fuel;         /* the current slice; may go negative by one charge */
    int64_t fuel_bank;    /* the rest */
    int64_t fuel_set;     /* the amount given by set_fuel; INT64_MAX when unlimited */
    uint64_t deadline_ns; /* CLOCK_MONOTONIC; 0 = none */
    atomic_bool interrupted;

    uint64_t *stack; /* value stack, allocated on first call */
    uint64_t *stack_end;
    uint64_t *sp; /* first free slot */
    eos_wasm__frame *frames;
    uint32_t frame_cap;
    uint32_t depth;
    uintptr_t native_base; /* native stack address at the outermost call */
    uint32_t native_depth;

    char trap_msg[256];
    struct eos_wasm__eh *eh; /* tags and exceptions (exec_eh.c); NULL until used */
    /* Compiled code: where a trap unwinds to, and the lowest native stack
     * address a compiled frame may use. */
    void *jit_jmp;
    uintptr_t jit_stack_limit;
};

struct eos_wasm_caller {
    eos_wasm_store *store;
    eos_wasm_instance *inst;
};

/* A cursor over untrusted bytes. The first failure is recorded in err and
 * diag (with the section, function index and byte offset). */
typedef struct eos_wasm__rd {
    const uint8_t *p;
    const uint8_t *end;
    const uint8_t *base;
    eos_diag *diag;
    const char *section;
    int64_t index; /* function or segment index, -1 when none */
    int err;
    eos_wasm_module *mod; /* the module read, for typed references; or NULL */
} eos_wasm__rd;

static inline void eos_wasm__rd_init(eos_wasm__rd *r, const uint8_t *b, size_t size, eos_diag *d)
{
    r->p = r->base = b;
    r->end = b + size;
    r->diag = d;
    r->section = "module";
    r->index = -1;
    r->err = 0;
    r->mod = NULL;
}

/* Records the failure (code, message) at the current offset; returns code. */
int eos_wasm__rd_fail(eos_wasm__rd *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline int eos_wasm__rd_byte(eos_wasm__rd *r, uint8_t *out)
{
    if (r->p >= r->end) {
        *out = 0;
        return eos_wasm__rd_fail(r, EOS_EMALFORMED, "unexpected end");
    }
    *out = *r->p++;
    return 0;
}

/* LEB128 readers; they reject over-long encodings and unused bits set. */
int eos_wasm__rd_uleb(eos_wasm__rd *r, unsigned bits, uint64_t *out);
int eos_wasm__rd_sleb(eos_wasm__rd *r, unsigned bits, int64_t *out);

static inline int eos_wasm__rd_u32(eos_wasm__rd *r, uint32_t *out)
{
    uint64_t v = 0;
    int rc = eos_wasm__rd_uleb(r, 32, &v);
    *out = (uint32_t)v;
    return rc;
}

/* Reads a constant expression of type want (global.get limited to globals
 * below global_limit) and records where it is. */
int eos_wasm__read_expr(eos_wasm__rd *r, eos_wasm_module *m, eos_wasm__expr *e, uint8_t want,
                        uint32_t global_limit);

/* A control frame of the validator (block, loop, if/else or the function). */
typedef struct eos_wasm__ctl {
    uint8_t kind;
    bool unreachable;
    uint32_t height;
    const uint8_t *params;
    uint32_t nparams;
    const uint8_t *results;
    uint32_t nresults;
    uint32_t target;     /* loops: code index of the header */
    uint32_t patch;      /* forward branches to the end, linked through their words */
    uint32_t else_patch; /* if: the BR_UNLESS target word */
    uint32_t init_height; /* locals set (init_stack) when the frame began */
} eos_wasm__ctl;

/* The per-function state of validate.c while it checks and translates a
 * body; validate_mem.c and fuse.c work on it through the helpers below. */
typedef struct eos_wasm__vctx {
    eos_wasm_module *m;
    eos_wasm__rd r;
    eos_wasm__code *c;
    const eos_wasm_functype *ft;
    uint8_t *vals;
    uint32_t nvals, cap_vals;
    eos_wasm__ctl *ctls;
    uint32_t nctls, cap_ctls;
    uint32_t *code;
    uint32_t len, cap;
    uint32_t *starts; /* word index of every instruction, for threading */
    uint32_t nstarts, cap_starts;
    uint32_t max_height;
    /* Peephole state for superinstructions: starts of the last instructions
     * emitted since the last label (fusing across a label is never done). */
    uint32_t last[3];
    uint32_t nlast;
    uint8_t op_of_code[256];
    uint8_t op_of_fc[32];
    /* v128 takes two slots: the slot of every local (wasm index), and the
     * number of wasm locals (c->local_count counts slots). */
    uint32_t *local_slot;
    uint32_t nlocals, cap_local_slot;
    uint32_t *eh; /* try_table triples of the function (validate_eh.c) */
    uint32_t neh, cap_eh;
    /* Non-defaultable locals (validate_funcref.c): which are set, and the
     * ones set since the start of each open frame, undone at its end. */
    uint8_t *local_unset;
    uint32_t cap_local_unset;
    uint32_t *init_stack;
    uint32_t ninit, cap_init;
} eos_wasm__vctx;

/* Control frame kinds (eos_wasm__ctl.kind). */
enum {
    EOS_WASM__CTL_BLOCK,
    EOS_WASM__CTL_LOOP,
    EOS_WASM__CTL_IF,
    EOS_WASM__CTL_ELSE,
    EOS_WASM__CTL_FUNC,
    EOS_WASM__CTL_TRY_TABLE,
    EOS_WASM__CTL_TRY,       /* legacy try, before its first catch */
    EOS_WASM__CTL_CATCH,     /* legacy catch x */
    EOS_WASM__CTL_CATCH_ALL, /* legacy catch_all */
};

/* validate.c: operand stack, code emission and immediates for the
 * instruction handlers in validate_mem.c and fuse.c. Each returns 0 or the
 * error recorded in v->r; they borrow v and never take ownership. */
int eos_wasm__v_pop(eos_wasm__vctx *v, uint8_t want, uint8_t *out);
/* Makes room for need elements of size bytes in *p (capacity *cap). */
int eos_wasm__v_grow(eos_wasm__vctx *v, void **p, uint32_t *cap, uint32_t need, size_t size);

/* The hot helpers run once or more per instruction: inline in every file. */
static inline eos_wasm__ctl *eos_wasm__v_top(eos_wasm__vctx *v)
{
    return &v->ctls[v->nctls - 1];
}

static inline bool eos_wasm__v_live(eos_wasm__vctx *v)
{
    return !eos_wasm__v_top(v)->unreachable;
}

static inline int eos_wasm__v_push(eos_wasm__vctx *v, uint8_t t)
{
    if (v->nvals + 2 > v->cap_vals &&
        eos_wasm__v_grow(v, (void **)&v->vals, &v->cap_vals, v->nvals + 2, 1))
        return v->r.err ? v->r.err : EOS_EINVALID;
    v->vals[v->nvals++] = t;
    if (t == EOS_WASM_V128) /* two slots: see EOS_WASM__V128_HI */
        v->vals[v->nvals++] = EOS_WASM__V128_HI;
    if (v->nvals > v->max_height)
        v->max_height = v->nvals;
    return 0;
}

/* Pops ts[n-1] down to ts[0], checking each. */
static inline int eos_wasm__v_pop_types(eos_wasm__vctx *v, const uint8_t *ts, uint32_t n)
{
    for (uint32_t i = n; i-- > 0;) {
        int rc = eos_wasm__v_pop(v, ts[i], NULL);
        if (rc)
            return rc;
    }
    return 0;
}

static inline int eos_wasm__v_push_types(eos_wasm__vctx *v, const uint8_t *ts, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        int rc = eos_wasm__v_push(v, ts[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* After an unconditional branch: the rest of the block is stack-polymorphic. */
static inline void eos_wasm__v_set_unreachable(eos_wasm__vctx *v)
{
    v->nvals = eos_wasm__v_top(v)->height;
    eos_wasm__v_top(v)->unreachable = true;
}

static inline int eos_wasm__v_emit(eos_wasm__vctx *v, uint32_t w)
{
    if (v->len + 1 > v->cap &&
        eos_wasm__v_grow(v, (void **)&v->code, &v->cap, v->len + 1, sizeof(uint32_t)))
        return v->r.err ? v->r.err : EOS_EINVALID;
    v->code[v->len++] = w;
    return 0;
}

/* Drops the code from word at on (a superinstruction replaces it), with the
 * instruction starts recorded there. */
static inline void eos_wasm__v_truncate(eos_wasm__vctx *v, uint32_t at)
{
    v->len = at;
    while (v->nstarts && v->starts[v->nstarts - 1] >= at)
        v->nstarts--;
}

/* Starts an instruction: records where it begins, for threading and for the
 * peephole, then emits its op. */
static inline int eos_wasm__v_emit_op(eos_wasm__vctx *v, uint32_t op)
{
    if (v->nstarts + 1 > v->cap_starts &&
        eos_wasm__v_grow(v, (void **)&v->starts, &v->cap_starts, v->nstarts + 1, sizeof(uint32_t)))
        return v->r.err ? v->r.err : EOS_EINVALID;
    v->starts[v->nstarts++] = v->len;
    if (v->nlast == 3) {
        v->last[0] = v->last[1];
        v->last[1] = v->last[2];
        v->nlast = 2;
    }
    v->last[v->nlast++] = v->len;
    return eos_wasm__v_emit(v, op);
}

int eos_wasm__v_emit_target(eos_wasm__vctx *v, eos_wasm__ctl *l);
uint32_t eos_wasm__v_label_arity(const eos_wasm__ctl *l);
/* The slots a branch to l carries (a v128 value takes two). Borrows l. */
uint32_t eos_wasm__v_label_slots(const eos_wasm__ctl *l);
int eos_wasm__v_read_idx(eos_wasm__vctx *v, uint32_t limit, const char *what, uint32_t *out);
int eos_wasm__v_read_memidx(eos_wasm__vctx *v, uint32_t *out);
/* The operand signature of every internal op ("ii:i" style), by op. */
extern const char *const eos_wasm__op_sig[];
/* validate_mem.c: loads and stores (opcode 0x28..0x3e) and the 0xfc prefix. */
int eos_wasm__v_memop(eos_wasm__vctx *v, uint8_t opcode);
int eos_wasm__v_prefixed(eos_wasm__vctx *v);
/* fuse.c: emit an instruction, folding it into a superinstruction with the
 * ones just before it when a pattern matches. fuse_br_if sets *done when it
 * emitted the branch itself. */
int eos_wasm__fuse_br_if(eos_wasm__vctx *v, eos_wasm__ctl *l, bool *done);
int eos_wasm__fuse_simple(eos_wasm__vctx *v, uint32_t op);
int eos_wasm__fuse_local_set(eos_wasm__vctx *v, uint32_t idx);

/* ---- SIMD (v128) ----------------------------------------------------------
 * A v128 value takes two consecutive 64-bit slots (bytes 0..7 in the lower
 * one, little-endian like memory); the validator's type stack mirrors that
 * with EOS_WASM__V128_HI above every EOS_WASM_V128, so heights, branch
 * arities and frame offsets are all counted in slots. *//* Slots taken by n values of types ts (v128 counts two). */
static inline uint32_t eos_wasm__slots_of(const uint8_t *ts, uint32_t n)
{
    uint32_t k = n;
    for (uint32_t i = 0; i < n; i++)
        k += ts[i] == EOS_WASM_V128;
    return k;
}
/* Marks on the sub-opcode word of EOS_WASM_OP_SIMD (bits 0..15: the
 * sub-opcode) for operations on v128 operands only. */
#define EOS_WASM__SIMD_UNARY   0x10000u
#define EOS_WASM__SIMD_BINARY  0x20000u
#define EOS_WASM__SIMD_TERNARY 0x40000u
/* validate_simd.c: checks and translates the 0xfd instruction at v->r. */
int eos_wasm__v_simd(eos_wasm__vctx *v);
/* exec_simd.c: runs the SIMD instruction at ip (an EOS_WASM_OP_SIMD) on the
 * stack top sp for inst; returns the new stack top, or NULL with *trap set
 * to a trap code. Borrows everything. */
uint64_t *eos_wasm__simd_exec(eos_wasm_instance *inst, const uint32_t *ip, uint64_t *sp, int *trap);
/* simd.c: the value <-> slot conversions of the API (v128 takes two);
 * return the slots used. Borrow their arguments. */
uint32_t eos_wasm__val_to_slots(const eos_wasm_val *v, uint64_t *slots);
uint32_t eos_wasm__slots_to_val(uint8_t type, const uint64_t *slots, eos_wasm_val *out);
/* Evaluates a v128 constant expression for inst into out (two slots). */
int eos_wasm__eval_expr_v128(eos_wasm_instance *inst, const eos_wasm__expr *e, uint64_t *out);

/* ---- threads (atomics) and wide arithmetic --------------------------------
 * validate_atomic.c checks and translates the 0xfe instruction at v->r into
 * EOS_WASM_OP_ATOMIC; wide.c does the same for 0xfc sub (19..22) into
 * EOS_WASM_OP_WIDE. */
int eos_wasm__v_atomic(eos_wasm__vctx *v);
/* The value type and access width (log2 bytes) of 0xfe sub-opcode sub; -1
 * for a sub-opcode that is not an access (fence, reserved). */
int eos_wasm__atomic_shape(uint32_t sub, uint8_t *type, uint8_t *log2);
int eos_wasm__v_wide(eos_wasm__vctx *v, uint32_t sub);
/* exec_atomic.c: runs the EOS_WASM_OP_ATOMIC at ip on the stack top sp for
 * inst of store s; returns the new stack top, or NULL with *trap and *msg
 * set. Borrows everything. */
uint64_t *eos_wasm__atomic_exec(eos_wasm_store *s, eos_wasm_instance *inst, const uint32_t *ip,
                                uint64_t *sp, int *trap, const char **msg);
/* wide.c: runs 0xfc sub (19..22) on the stack top sp; returns the new top. */
uint64_t *eos_wasm__wide_exec(uint32_t sub, uint64_t *sp);
/* ---- memory64, table64, custom page sizes ----------------------------------
 * Modules with a 64-bit memory or table, or a memory of 1-byte pages, are
 * validated by validate_mem64.c: their instructions on such memories and
 * tables become EOS_WASM_OP_MEM64 (words: op, sub-operation, length, then
 * the immediates below), every address is a full 64-bit slot and every
 * bounds check is exact. Other modules never see this path. */
enum {
    EOS_WASM__X64_ACCESS,      /* K M OLO OHI: load or store of wasm opcode K on memory M */
    EOS_WASM__X64_MEMORY_SIZE, /* M */
    EOS_WASM__X64_MEMORY_GROW, /* M */
    EOS_WASM__X64_MEMORY_FILL, /* M */
    EOS_WASM__X64_MEMORY_COPY, /* MD MS */
    EOS_WASM__X64_MEMORY_INIT, /* D M */
    EOS_WASM__X64_TABLE_GET,   /* T */
    EOS_WASM__X64_TABLE_SET,   /* T */
    EOS_WASM__X64_TABLE_SIZE,  /* T */
    EOS_WASM__X64_TABLE_GROW,  /* T */
    EOS_WASM__X64_TABLE_FILL,  /* T */
    EOS_WASM__X64_TABLE_COPY,  /* TD TS */
    EOS_WASM__X64_TABLE_INIT,  /* E T */
    EOS_WASM__X64_INDIRECT,    /* T: the i64 index of the call_indirect that follows */
    EOS_WASM__X64_SIMD_ADDR,   /* M OLO OHI W D: address D slots down += offset (W bytes) */
};
/* log2 of the page size of memory type t (16, or 0 for 1-byte pages). */
static inline unsigned eos_wasm__page_log2(const eos_wasm_memorytype *t)
{
    return t->page_size == 1 ? 0 : 16;
}
/* decode_mem64.c: reads a memory type or a table's limits (flags 0x04:
 * 64-bit, 0x08: page size) into *t for module m (uses_mem64 set). */
int eos_wasm__read_memtype(eos_wasm__rd *r, eos_wasm_module *m, eos_wasm_memorytype *t);
int eos_wasm__read_table_limits(eos_wasm__rd *r, eos_wasm_module *m, eos_wasm_limits_type *l);
/* validate_mem64.c: true when opcode b (of a uses_mem64 module) is checked
 * and translated by eos_wasm__v_mem64. */
bool eos_wasm__v_mem64_claims(uint8_t b);
int eos_wasm__v_mem64(eos_wasm__vctx *v, uint8_t b);
/* Emits, for the SIMD access of width bytes that follows on i64 memory mem,
 * the exact addition of off to its address depth slots down. */
int eos_wasm__v_simd_addr64(eos_wasm__vctx *v, uint32_t mem, uint64_t off, uint32_t width,
                            uint32_t depth);
/* Emits the check of a call_indirect's i64 index into table (table64). */
int eos_wasm__v_indirect64(eos_wasm__vctx *v, uint32_t table);
/* The value type of memory or table addresses (i32 or i64). */
static inline uint8_t eos_wasm__mem_at(const eos_wasm_module *m, uint32_t mem)
{
    return m->memories[mem].limits.is64 ? EOS_WASM_I64 : EOS_WASM_I32;
}
static inline uint8_t eos_wasm__table_at(const eos_wasm_module *m, uint32_t tab)
{
    return m->tables[tab].limits.is64 ? EOS_WASM_I64 : EOS_WASM_I32;
}
/* exec.c: the byte width of plain load or store opcode kind (0x28..0x3e),
 * and the access itself at p: a store writes sp[-1], a load replaces sp[-1]
 * (its address) with the value, sign- or zero-extended per kind. */
uint32_t eos_wasm__access_width(uint32_t kind);
void eos_wasm__access_move(uint32_t kind, uint8_t *p, uint64_t *sp);
/* exec_mem64.c: runs the EOS_WASM_OP_MEM64 at ip on stack top sp for inst;
 * returns the new stack top, or NULL with *trap and *msg set. *charge gets
 * the elements moved, for fuel. Borrows everything. */
uint64_t *eos_wasm__mem64_exec(eos_wasm_instance *inst, const uint32_t *ip, uint64_t *sp, int *trap,
                               const char **msg, uint64_t *charge);
/* ---- exception handling ----------------------------------------------------
 * A tag is a store object; an exception is a tag and its payload slots, and
 * an exnref is a pointer to one (store-owned: it lives while the store does,
 * except that one caught without _ref is reused by the next throw). */
struct eos_wasm_tag {
    struct eos_wasm_tag *next;
    eos_wasm_store *store;
    eos_wasm_functype type; /* owns its params */
    uint32_t slots;         /* of the payload */
};
typedef struct eos_wasm__exn {
    struct eos_wasm__exn *next;  /* all of the store's */
    struct eos_wasm__exn *spare; /* the free list */
    eos_wasm_tag *tag;
    uint32_t nslots, cap;
    bool exposed; /* an exnref to it was made: never reused */
    uint64_t payload[];
} eos_wasm__exn;
/* validate_eh.c */
int eos_wasm__decode_tags(eos_wasm__rd *r, eos_wasm_module *m);
int eos_wasm__read_tagtype(eos_wasm__rd *r, eos_wasm_module *m, uint32_t *type_index);
int eos_wasm__tag_spaces(eos_wasm__rd *r, eos_wasm_module *m);
/* throw (0x08), throw_ref (0x0a) and legacy rethrow (0x09). */
int eos_wasm__v_eh(eos_wasm__vctx *v, uint8_t op);
/* Legacy catch x (0x07) and catch_all (0x19) once the try's body is
 * checked, and delegate (0x18) before the try ends. */
int eos_wasm__v_catch(eos_wasm__vctx *v, uint8_t op);
int eos_wasm__v_delegate(eos_wasm__vctx *v);
/* try_table's handler clauses (after its block type): checks them against
 * the labels and emits TRY_TABLE; *at is its word (UINT32_MAX when dead).
 * eh_end records the body of try_table l when its end is reached. */
int eos_wasm__v_try_table(eos_wasm__vctx *v, uint32_t *at);
int eos_wasm__v_eh_end(eos_wasm__vctx *v, const eos_wasm__ctl *l);
/* validate.c: the types a branch to l carries. Borrows l. */
const uint8_t *eos_wasm__v_label_types(const eos_wasm__ctl *l);
/* Keeps the function's try_table list in c (first translation only). */
int eos_wasm__v_eh_keep(eos_wasm__vctx *v, eos_wasm__code *c);
void eos_wasm__eh_module_clear(eos_wasm_module *m);
/* exec_eh.c */
eos_wasm__exn *eos_wasm__exn_new(eos_wasm_store *s, eos_wasm_tag *tag, const uint64_t *payload);
/* The handler clause (5 words: kind tag target dst count) of code c (at
 * cbase) that catches x at word pos in instance inst, or NULL. */
const uint32_t *eos_wasm__eh_find(const eos_wasm__code *c, const uint32_t *cbase, uint32_t pos,
                                  eos_wasm_instance *inst, const eos_wasm__exn *x);
/* Moves a caught exception to fp + dst per clause h (in frame depth);
 * returns the new top, or NULL when out of memory. */
uint64_t *eos_wasm__eh_catch(eos_wasm_store *s, const uint32_t *h, uint64_t *fp, eos_wasm__exn *x,
                             uint32_t depth);
/* What legacy catch block k of the frame at depth caught, or NULL. */
eos_wasm__exn *eos_wasm__eh_rethrow(eos_wasm_store *s, uint32_t depth, uint32_t k);
/* The exception pending from a nested call (EOS_TRAP_EXCEPTION), taken. */
eos_wasm__exn *eos_wasm__eh_take(eos_wasm_store *s, int rc);
int eos_wasm__eh_uncaught(eos_wasm_store *s, eos_wasm__exn *x);
/* Instantiation: the instance's tags array, defined tags created. */
int eos_wasm__eh_instance(eos_wasm_store *s, eos_wasm_instance *inst);
void eos_wasm__eh_store_free(eos_wasm_store *s);
/* ---- function references: typed references --------------------------------
 * A value type stays one byte everywhere: funcref and externref keep their
 * codes ((ref null func), (ref null extern)); every other reference type a
 * module uses gets a code from EOS_WASM__RT_FIRST naming an entry of
 * m->reftypes. Function-like ones come before EOS_WASM__RT_EXTERN_FIRST, so
 * the public type (funcref or externref) of a code needs no module. Heap
 * types are a type index or one of the abstract EOS_WASM__HT_* above every
 * index; GC adds its abstract heap types (any, eq, i31, struct, array) and
 * struct/array type indices here without changing the one-byte codes. */
#define EOS_WASM__RT_FIRST        0x80u
#define EOS_WASM__RT_EXTERN_FIRST 0xf0u
#define EOS_WASM__HT_FUNC         0xfffffff0u
#define EOS_WASM__HT_EXTERN       0xfffffff1u
#define EOS_WASM__HT_NOFUNC       0xfffffff2u
#define EOS_WASM__HT_NOEXTERN     0xfffffff3u
/* exception handling: (ref null exn) is EOS_WASM_EXNREF; (ref exn) shares
 * that code (an exnref is never null where the validator needs it not to
 * be: the producers, catch_ref and catch_all_ref, push a non-null one). */
#define EOS_WASM__HT_EXN          0xfffffff4u
typedef struct eos_wasm__reftype {
    uint32_t heap;
    bool nullable;
} eos_wasm__reftype;
static inline bool eos_wasm__is_ref(uint8_t t)
{
    return t == EOS_WASM_FUNCREF || t == EOS_WASM_EXTERNREF || t == EOS_WASM_EXNREF ||
           t >= EOS_WASM__RT_FIRST;
}
/* The type the API shows for a value of type t. */
static inline uint8_t eos_wasm__val_public(uint8_t t)
{
    if (t < EOS_WASM__RT_FIRST)
        return t;
    return t >= EOS_WASM__RT_EXTERN_FIRST ? EOS_WASM_EXTERNREF : EOS_WASM_FUNCREF;
}
/* reftype.c. intern finds or adds the code of (ref null? heap) (0 or
 * EOS_ELIMIT); read_reftype reads a reference type whose first byte b was
 * read; read_heaptype reads an s33 heap type. All failures go to r. */
int eos_wasm__ref_intern(eos_wasm_module *m, uint32_t heap, bool nullable, uint8_t *out);
int eos_wasm__read_reftype(eos_wasm__rd *r, eos_wasm_module *m, uint8_t b, uint8_t *out);
int eos_wasm__read_heaptype(eos_wasm__rd *r, const eos_wasm_module *m, uint32_t *heap);
eos_wasm__reftype eos_wasm__ref_info(const eos_wasm_module *m, uint8_t t);
/* a <: b in m (0 is the bottom type of unreachable code). */
bool eos_wasm__val_sub(const eos_wasm_module *m, uint8_t a, uint8_t b);
/* a of module ma <: b of module mb (linking; a NULL module means a public
 * type); eq asks for equality. */
bool eos_wasm__val_match(const eos_wasm_module *ma, uint8_t a, const eos_wasm_module *mb,
                         uint8_t b, bool eq);
bool eos_wasm__functype_match(const eos_wasm_module *ma, const eos_wasm_functype *a,
                              const eos_wasm_module *mb, const eos_wasm_functype *b);
/* Every code as a one-element type list (block types of one result). */
extern const uint8_t eos_wasm__codes[256];
/* Builds m->types_public when needed (0 or the error recorded in r); the
 * API's view of function type t of m (any other t is returned as is). */
int eos_wasm__ref_public_types(eos_wasm__rd *r, eos_wasm_module *m);
const eos_wasm_functype *eos_wasm__functype_public(const eos_wasm_module *m,
                                                   const eos_wasm_functype *t);
/* A value the host gives fits type t of m (NULL: a public type): typed
 * references are checked, since call_ref trusts them without a check. */
bool eos_wasm__ref_value_ok(const eos_wasm_module *m, uint8_t t, const eos_wasm_val *v);
/* A tail call's callee results (of a) fit the caller's (of b): subtyping. */
bool eos_wasm__results_sub(const eos_wasm_module *m, const eos_wasm_functype *a,
                           const eos_wasm_functype *b);
/* Has a default value (null or zero): every type but non-null references. */
bool eos_wasm__defaultable(const eos_wasm_module *m, uint8_t t);
/* The type of ref.func f: (ref $t), or funcref when codes ran out. */
uint8_t eos_wasm__ref_func_type(eos_wasm_module *m, uint32_t f);
/* validate_funcref.c: call_ref, return_call_ref, ref.as_non_null,
 * br_on_null, br_on_non_null (opcode b) and the tracking of set locals. */
int eos_wasm__v_funcref(eos_wasm__vctx *v, uint8_t b);
int eos_wasm__v_locals_init(eos_wasm__vctx *v);
int eos_wasm__v_local_get_check(eos_wasm__vctx *v, uint32_t idx);
int eos_wasm__v_local_set_mark(eos_wasm__vctx *v, uint32_t idx);
void eos_wasm__v_locals_reset(eos_wasm__vctx *v, uint32_t height);

/* decode.c: parses every section; function bodies are only located. */
int eos_wasm__decode(eos_wasm_module *m, eos_diag *diag);
/* validate.c: validates constant expressions and segments, then type-checks
 * and translates every function body. */
int eos_wasm__validate(eos_wasm_module *m, eos_diag *diag);
/* Frees everything the module owns (not the struct itself). */
void eos_wasm__module_clear(eos_wasm_module *m);

/* exec.c: runs f with arguments in slots (results written back). Returns 0
 * or a trap code with s->trap_msg set. */
int eos_wasm__exec(eos_wasm_store *s, eos_wasm_func *f, uint64_t *slots);
/* Writes into t (len words) the interpreter code for the translation
 * code[0..len) (borrowed) given the instruction starts. */
void eos_wasm__thread_code(uint32_t *t, const uint32_t *code, uint32_t len, const uint32_t *starts,
                           uint32_t nstarts);
/* validate.c: translates c of m (validated at load) on its first call and
 * publishes c->threaded; thread-safe. 0 or EOS_ENOMEM. */
int eos_wasm__translate(eos_wasm_module *m, eos_wasm__code *c);
/* Modules with at least this much code are translated lazily. */
#define EOS_WASM__LAZY_MIN (1u << 20)
/* Calls a host function with a caller record. */
int eos_wasm__call_host(eos_wasm_store *s, eos_wasm_instance *inst, eos_wasm_func *f,
                        uint64_t *slots);
int eos_wasm__trap(eos_wasm_store *s, int code, const char *msg);
/* budget.c: called when s->fuel (the slice) runs below zero. Refills it
 * from the bank and returns 0, or EOS_TRAP_OUT_OF_FUEL, EOS_TRAP_DEADLINE
 * (deadline passed or the store interrupted). Borrows s. */
int eos_wasm__fuel_refill(eos_wasm_store *s);
/* Sets the fuel remaining to total (split into slice and bank). */
void eos_wasm__fuel_fill(eos_wasm_store *s, int64_t total);

/* plan.c: builds and frees m->plan; export_find returns the export's index
 * or -1. All borrow m. */
int eos_wasm__plan_build(eos_wasm_module *m);
void eos_wasm__plan_free(eos_wasm_module *m);
/* Replaces the borrowed input in m->bytes by a private copy of what
 * instances still read (see struct eos_wasm_module); 0 or EOS_ENOMEM. */
int eos_wasm__keep_bytes(eos_wasm_module *m);
int64_t eos_wasm__export_find(const eos_wasm_module *m, const char *name, size_t len);

/* memory.c: the mmap backing of linear memories. mem_map reserves reserve
 * bytes (at least size) with the first size accessible and zero; resize
 * grows within the reservation (moving past it); unmap releases it; reset
 * returns a memory to size bytes of zeros with img (may be NULL) applied.
 * image_build writes m's active data segments (at m->plan.data_off) into an
 * image of extent bytes; free it with image_free. */
int eos_wasm__mem_map(eos_wasm_memory *m, uint64_t size, uint64_t reserve);
int eos_wasm__mem_resize(eos_wasm_memory *m, uint64_t new_size);
void eos_wasm__mem_unmap(eos_wasm_memory *m);
int eos_wasm__mem_apply_image(eos_wasm_memory *m, const eos_wasm__image *img);
int eos_wasm__mem_reset(eos_wasm_memory *m, uint64_t size, const eos_wasm__image *img);
/* Interpreter code of module m comes from chunks mapped for it alone, so
 * unloading a module gives its largest part back to the system at once
 * instead of leaving the heap fragmented. code_alloc returns words words
 * (or NULL); code_free_all unmaps every chunk (and frees the buffers of a
 * lazily translated module). */
uint32_t *eos_wasm__code_alloc(eos_wasm_module *m, size_t words);
void eos_wasm__code_free_all(eos_wasm_module *m);
int eos_wasm__image_build(eos_wasm__image *img, const eos_wasm_module *m, uint64_t extent);
void eos_wasm__image_free(eos_wasm__image *img);

/* runtime.c */
/* eos_wasm_memory_new, with a guard reservation when guard is true (see
 * guard.c). */
int eos_wasm__memory_new(eos_wasm_store *s, const eos_wasm_memorytype *type, bool guard,
                         eos_wasm_memory **out);
int eos_wasm__memory_grow(eos_wasm_memory *m, uint64_t delta, uint64_t *out_old_pages);
int eos_wasm__table_grow(eos_wasm_table *t, uint64_t delta, void *init, uint64_t *out_old);
int eos_wasm__eval_expr(eos_wasm_instance *inst, const eos_wasm__expr *e, uint64_t *out);
/* Evaluates e when it needs no instance; EOS_EAGAIN when it does. */
int eos_wasm__eval_const(const eos_wasm_module *m, const eos_wasm__expr *e, uint64_t *out);
int eos_wasm__memory_init(eos_wasm_instance *inst, uint32_t mem, uint32_t seg, uint64_t d,
                          uint64_t s, uint64_t n);
int eos_wasm__table_init(eos_wasm_instance *inst, uint32_t tab, uint32_t seg, uint64_t d,
                         uint64_t s, uint64_t n);
int eos_wasm__table_copy(eos_wasm_table *dt, eos_wasm_table *st, uint64_t d, uint64_t s,
                         uint64_t n);
bool eos_wasm__functype_eq(const eos_wasm_functype *a, const eos_wasm_functype *b);

/* jit.c (or jit_none.c without LLVM): the compiled tier. */
#define EOS_WASM__JIT_DECLINED 1
/* Called once a module is validated: compiles it (tier compiled), queues it
 * for the background compiler (auto) or does nothing. Borrows m. */
int eos_wasm__jit_module_loaded(eos_wasm_module *m, eos_diag *diag);
/* Frees the module's compiled code (from eos_wasm__module_clear). */
void eos_wasm__jit_module_free(eos_wasm_module *m);
/* Runs f in compiled code when its instance is compiled (deciding the
 * instance's tier on its first call); returns 0, a trap code, or
 * EOS_WASM__JIT_DECLINED for the interpreter to run it. Borrows all. */
int eos_wasm__jit_exec(eos_wasm_store *s, eos_wasm_func *f, uint64_t *slots);

/* guard.c: guard-page bounds checks. */
/* True when m's instances get guarded memories (bounds guard, a tier that
 * may compile, a platform that allows it). Borrows m. */
bool eos_wasm__guard_wanted(const eos_wasm_module *m);
/* Installs the SIGSEGV/SIGBUS handler once (process-wide); 0 or
 * EOS_EUNSUPPORTED. */
int eos_wasm__guard_install(void);
/* Maps m (borrowed; m->store set) as a guarded memory of size bytes and
 * registers it for the handler; fails (m unchanged) when the address space
 * or the registry is full. Undone by eos_wasm__guard_unmap. */
int eos_wasm__guard_map(eos_wasm_memory *m, uint64_t size);
void eos_wasm__guard_unmap(eos_wasm_memory *m);
/* Grows or shrinks a guarded memory's accessible part to new_size. */
int eos_wasm__guard_resize(eos_wasm_memory *m, uint64_t new_size);
/* Registers [lo, hi) as compiled code of owner (borrowed) for the handler;
 * every range of an owner is dropped by eos_wasm__guard_code_remove. */
int eos_wasm__guard_code_add(uintptr_t lo, uintptr_t hi, void *owner);
void eos_wasm__guard_code_remove(void *owner);
/* True when pc lies in registered compiled code (for tests and checks). */
bool eos_wasm__guard_contains_code(uintptr_t pc);
/* jit_rt.c: where the handler resumes a thread whose compiled code faulted
 * in a guarded memory of store s (borrowed): the out-of-bounds trap. */
_Noreturn void eos_wasm__jit_guard_trap(eos_wasm_store *s);

/* jit_rt.c: what compiled code calls, by number; sig is "R:PP..." with v void,
 * i i32, I i64, p pointer. Each takes the calling instance first. */
enum {
    EOS_WASM__RT_TRAP,
    EOS_WASM__RT_CALL,
    EOS_WASM__RT_SIG_EQ,
    EOS_WASM__RT_MEMORY_SIZE,
    EOS_WASM__RT_MEMORY_GROW,
    EOS_WASM__RT_MEMORY_FILL,
    EOS_WASM__RT_MEMORY_COPY,
    EOS_WASM__RT_MEMORY_INIT,
    EOS_WASM__RT_DATA_DROP,
    EOS_WASM__RT_TABLE_INIT,
    EOS_WASM__RT_TABLE_COPY,
    EOS_WASM__RT_ELEM_DROP,
    EOS_WASM__RT_TABLE_GROW,
    EOS_WASM__RT_TABLE_SIZE,
    EOS_WASM__RT_TABLE_FILL,
    EOS_WASM__RT_TABLE_GET,
    EOS_WASM__RT_TABLE_SET,
    EOS_WASM__RT_FUEL,
    EOS_WASM__RT_ATOMIC, /* threads: notify and wait (exec_atomic.c's semantics) */
    EOS_WASM__RT_MEM64, /* memory64, table64, custom page sizes (jit_rt.c) */
    EOS_WASM__RT_COUNT_
};
typedef struct eos_wasm__jit_rt {
    void *fn;
    const char *sig;
} eos_wasm__jit_rt;
extern const eos_wasm__jit_rt eos_wasm__jit_rts[EOS_WASM__RT_COUNT_];
/* Compiled code calls helper h as the symbol named by this format with h:
 * the linker binds it, so the code holds no addresses and can be cached. */
#define EOS_WASM__RT_SYMBOL "eos_wasm_rt%d"
/* Trap kinds of compiled code, each with the interpreter's code and message
 * (jit_translate.c); the trap helper takes the kind. */
enum {
    EOS_WASM__JT_UNREACHABLE,
    EOS_WASM__JT_MEM_OOB,
    EOS_WASM__JT_DIV_ZERO,
    EOS_WASM__JT_INT_OVERFLOW,
    EOS_WASM__JT_CONVERSION,
    EOS_WASM__JT_TABLE_OOB,
    EOS_WASM__JT_INDIRECT_OOB,
    EOS_WASM__JT_UNINIT,
    EOS_WASM__JT_SIG,
    EOS_WASM__JT_STACK,
    EOS_WASM__JT_UNALIGNED, /* threads: a misaligned atomic access */
    EOS_WASM__JT_NULL_FUNC, /* function references: call_ref of null */
    EOS_WASM__JT_NULL_REF,  /* ref.as_non_null of null */
    EOS_WASM__JT_COUNT
};
typedef struct eos_wasm__jit_trap_kind {
    int code;
    const char *msg;
} eos_wasm__jit_trap_kind;
extern const eos_wasm__jit_trap_kind eos_wasm__jit_trap_kinds[EOS_WASM__JT_COUNT];
/* Runs compiled entry (void (inst, budget, slots)) for f with a trap
 * landing pad; 0 or a trap code. */
int eos_wasm__jit_run(eos_wasm_store *s, eos_wasm_func *f, uint64_t *slots);

/* jit_translate.c: adds defined functions [first, first + count) of m to
 * the LLVM module mod (context cx), as "f<i>" (typed, fastcc) and "e<i>"
 * (slots entry). Functions outside the range and the helpers are declared
 * by name, for the linker: the code embeds no address. sel (NULL: all)
 * marks the functions compiled; calls to the others take the runtime's
 * general path into the interpreter. Borrows everything; 0 or EOS_ENOMEM. */
struct LLVMOpaqueContext;
struct LLVMOpaqueModule;
int eos_wasm__jit_translate(const eos_wasm_module *m, struct LLVMOpaqueContext *cx,
                            struct LLVMOpaqueModule *mod, uint32_t first, uint32_t count,
                            const uint8_t *sel);

/* Rounding for both interpreters (scalar and SIMD). libm may return a
 * signalling NaN unchanged; wasm requires an arithmetic (quiet) NaN, which
 * adding the value to itself gives. */
#define QUIET_ROUND(name, T, fn)                                                                   \
    static inline T name(T a)                                                                      \
    {                                                                                              \
        return a != a ? a + a : fn(a);                                                             \
    }
QUIET_ROUND(ceil32, float, ceilf)
QUIET_ROUND(floor32, float, floorf)
QUIET_ROUND(trunc32, float, truncf)
QUIET_ROUND(nearest32, float, nearbyintf)
QUIET_ROUND(ceil64, double, ceil)
QUIET_ROUND(floor64, double, floor)
QUIET_ROUND(trunc64, double, trunc)
QUIET_ROUND(nearest64, double, nearbyint)

#endif
