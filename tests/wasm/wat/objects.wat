;; Module used by test_objects: every kind of import provided by the host,
;; indirect calls through a host-owned table, and a trapping host function.
(module
  (import "env" "mem" (memory 1 4))
  (import "env" "tab" (table 2 funcref))
  (import "env" "g" (global $g (mut i32)))
  (import "env" "fail" (func $fail (result i32)))
  (type $ri (func (result i32)))
  (func (export "load0") (result i32) (i32.load (i32.const 0)))
  (func (export "callt") (param i32) (result i32)
    (call_indirect (type $ri) (local.get 0)))
  (func (export "getg") (result i32) (global.get $g))
  (func (export "setg") (param i32) (global.set $g (local.get 0)))
  (func (export "fail") (result i32) (call $fail))
  (func $seven (export "seven") (result i32) (i32.const 7))
  (func (export "ref") (result funcref) (ref.func $seven))
  (elem declare func $seven)
)
