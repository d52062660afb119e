;; Nested components that outer-alias what their enclosing component only has
;; once instantiated: an imported module two levels up, an imported
;; component, and a module aliased out of an instance. Each instantiation of
;; the enclosing component gives its nested definitions their own captures.
(component
  (component $C
    (import "m" (core module $M (export "get" (func (result i32)))))
    (component $Mid
      (component $Deep
        (core instance $m (instantiate $M))
        (func (export "get") (result u32) (canon lift (core func $m "get"))))
      (instance $d (instantiate $Deep))
      (export "get" (func $d "get")))
    (instance $mid (instantiate $Mid))
    (export "get" (func $mid "get")))
  (core module $M1 (func (export "get") (result i32) (i32.const 11)))
  (core module $M2 (func (export "get") (result i32) (i32.const 22)))
  (instance $c1 (instantiate $C (with "m" (core module $M1))))
  (instance $c2 (instantiate $C (with "m" (core module $M2))))
  (func (export "deep-1") (alias export $c1 "get"))
  (func (export "deep-2") (alias export $c2 "get"))

  (component $Wrap
    (import "k" (component $K (export "get" (func (result u32)))))
    (component $Inner
      (instance $k (instantiate $K))
      (export "get" (func $k "get")))
    (instance $i (instantiate $Inner))
    (export "get" (func $i "get")))
  (component $K3
    (core module $M (func (export "get") (result i32) (i32.const 33)))
    (core instance $m (instantiate $M))
    (func (export "get") (result u32) (canon lift (core func $m "get"))))
  (instance $w (instantiate $Wrap (with "k" (component $K3))))
  (func (export "comp") (alias export $w "get"))

  (component $Holder
    (core module $M (func (export "get") (result i32) (i32.const 44)))
    (export "m" (core module $M)))
  (component $User
    (import "h" (instance $h (export "m" (core module (export "get" (func (result i32)))))))
    (alias export $h "m" (core module $M))
    (component $Inner
      (core instance $m (instantiate $M))
      (func (export "get") (result u32) (canon lift (core func $m "get"))))
    (instance $i (instantiate $Inner))
    (export "get" (func $i "get")))
  (instance $h (instantiate $Holder))
  (instance $u (instantiate $User (with "h" (instance $h))))
  (func (export "aliased") (alias export $u "get")))

(assert_return (invoke "deep-1") (u32.const 11))
(assert_return (invoke "deep-2") (u32.const 22))
(assert_return (invoke "comp") (u32.const 33))
(assert_return (invoke "aliased") (u32.const 44))
