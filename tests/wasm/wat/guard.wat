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
  (func (export "poke") (param i32) (result i32) (call $poke (local.get 0))))
