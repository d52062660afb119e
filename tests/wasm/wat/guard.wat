;; The guard-page bounds test module: accesses at the edge of one page, the
;; largest static offset, growth, and a host function that misbehaves.
(module
  (import "host" "poke" (func $poke (param i32) (result i32)))
  (memory (export "mem") 1)
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load_far") (param i32) (result i32)
    (i32.load offset=4294967295 (local.get 0)))
  (func (export "load_dropped") (param i32) (result i32)
    (drop (i64.load (local.get 0))) (i32.const 7))
  (func (export "store") (param i32) (result i32)
    (i64.store (local.get 0) (i64.const -1)) (i32.const 0))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
;; Traps the optimiser must not lose or move: a load whose value folds
  ;; away, and stores to memory and a global on either side of a faulting load
  ;; (those before it stay done, those after it are never made).
  (global $g (mut i32) (i32.const 0))
  (func (export "get_g") (param i32) (result i32) (global.get $g))
  (func (export "load_folded") (param i32) (result i32)
    (i32.add (i32.mul (i32.load (local.get 0)) (i32.const 0)) (i32.const 7)))
  (func (export "load_unused") (param i32) (result i32) (local i32)
    (local.set 1 (i32.load8_u (local.get 0)))
    (i32.const 7))
  (func (export "store_around") (param i32) (result i32) (local i32)
    (i32.store (i32.const 16) (i32.const 1))
    (global.set $g (i32.const 1))
    (local.set 1 (i32.load (local.get 0)))
    (i32.store (i32.const 16) (i32.const 2))
    (i32.store (i32.const 20) (i32.const 3))
    (global.set $g (i32.const 2))
    (local.get 1))
  (func (export "loop_around") (param i32) (result i32) (local i32)
    ;; Stores 1..8 to 24..31, loading from the argument's address after each.
    (loop $l
      (i32.store8 offset=24 (local.get 1) (i32.add (local.get 1) (i32.const 1)))
      (global.set $g (local.get 1))
      (drop (i32.load (i32.add (local.get 0) (local.get 1))))
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get 1) (i32.const 8))))
    (i32.const 0))
  (func (export "poke") (param i32) (result i32) (call $poke (local.get 0))))
