;; Partial compilation: the warm-up runs only $hot's and $thot's first arm,
;; so $cold stays interpreted and is reached from native code by a call, an
;; indirect call and a tail call.
(module
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (import "env" "reenter" (func $reenter (param i32) (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $cold)
  (type $t (func (param i32) (result i32)))
  (func $cold (param i32) (result i32)
    (i32.mul (local.get 0) (i32.const 3)))
  (func (export "hot") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 1))
      (else (i32.add (call $cold (local.get 0))
                     (call_indirect (type $t) (local.get 0) (i32.const 0))))))
  (func (export "thot") (param i32) (result i32)
    (if (i32.eqz (local.get 0))
      (then (return (i32.const 7))))
    (return_call $cold (local.get 0)))
  (func (export "cold") (param i32) (result i32)
    (call $cold (local.get 0))))
