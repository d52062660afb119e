;; v128 across the host-function ABI (two slots each), in globals and in
;; multi-value results, for test_api.c.
(module
  (import "host" "rev" (func $rev (param i32 v128 i64) (result v128 i32)))
  (global $g (export "g") (mut v128) (v128.const i32x4 1 2 3 4))
  (func (export "go") (param v128) (result v128 i32)
    (call $rev (i32.const 7) (local.get 0) (i64.const 5)))
  (func (export "tail") (param v128) (result v128 i32)
    (return_call $rev (i32.const 9) (local.get 0) (i64.const 1)))
  (func (export "bump") (result v128)
    (global.set $g (i32x4.add (global.get $g) (v128.const i32x4 1 1 1 1)))
    (global.get $g)))
