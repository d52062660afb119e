;; Module used by the API tests: host imports, re-entry, fuel, memory growth
;; and deep recursion.
(module
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (import "env" "reenter" (func $reenter (param i32) (result i32)))
  (memory (export "mem") 1)
  (global $g (export "g") (mut i32) (i32.const 7))
  (func (export "call_add") (param i32 i32) (result i32)
    (call $add (local.get 0) (local.get 1)))
  (func $inner (export "inner") (param i32) (result i32)
    (i32.mul (local.get 0) (i32.const 3)))
  (func (export "outer") (param i32) (result i32)
    (i32.add (call $reenter (local.get 0)) (i32.const 1)))
  ;; Counts to n: the loop header runs n times (n >= 1).
  (func (export "count") (param $n i32) (result i32)
    (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i))
  (func (export "grow") (param i32) (result i32)
    (memory.grow (local.get 0)))
  (func $rec (export "rec") (param i32) (result i32)
    (call $rec (i32.add (local.get 0) (i32.const 1))))
  ;; Recursion through the host: every level re-enters the engine natively.
  (func (export "host_rec") (param i32) (result i32)
    (call $reenter (local.get 0)))
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "store") (param i32 i32)
    (i32.store (local.get 0) (local.get 1)))
  (func (export "div") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
;; Binary ops with a constant right operand (the translator fuses them);
  ;; shift and rotate counts beyond the width check the masking.
  (func (export "const_ops64") (param $x i64) (result i64)
    local.get $x
    i64.const 0x9e3779b97f4a7c15
    i64.mul
    i64.const 0x0123456789abcdef
    i64.add
    i64.const 91
    i64.rotl
    i64.const 0xff00ff00ff00ff00
    i64.xor
    i64.const 0x7fffffff0000ffff
    i64.and
    i64.const 0x100000001
    i64.sub
    i64.const 0x8000000000000000
    i64.or
    i64.const 67
    i64.shr_s
    i64.const 0x5555
    i64.xor
    i64.const 65
    i64.shl
    i64.const 70
    i64.shr_u)
  (func (export "const_f64") (param f64) (result f64)
    (f64.div (f64.sub (f64.mul (f64.add (local.get 0) (f64.const 1.5)) (f64.const -0.25))
                      (f64.const 3)) (f64.const 7)))
  (func (export "rotl_c32") (param i32) (result i32)
    (i32.rotl (local.get 0) (i32.const 37)))
;; Unsigned compare-and-branch with a constant, a local and a stack
  ;; operand: bit k is set when branch k is not taken.
  (func (export "cmp_u") (param $x i32) (param $y i32) (result i32)
    (local $r i32)
    (block (br_if 0 (i32.gt_u (local.get $x) (i32.const 0x80000000)))
      (local.set $r (i32.or (local.get $r) (i32.const 1))))
    (block (br_if 0 (i32.le_u (local.get $x) (i32.const 7)))
      (local.set $r (i32.or (local.get $r) (i32.const 2))))
    (block (br_if 0 (i32.gt_u (local.get $x) (local.get $y)))
      (local.set $r (i32.or (local.get $r) (i32.const 4))))
    (block (br_if 0 (i32.le_u (local.get $x) (local.get $y)))
      (local.set $r (i32.or (local.get $r) (i32.const 8))))
    (block (br_if 0 (i32.gt_u (local.get $x) (i32.xor (local.get $y) (local.get $r))))
      (local.set $r (i32.or (local.get $r) (i32.const 16))))
    (block (br_if 0 (i32.le_u (local.get $x) (i32.xor (local.get $y) (local.get $r))))
      (local.set $r (i32.or (local.get $r) (i32.const 32))))
    (local.get $r))
  (data (i32.const 16) "hello")
)
