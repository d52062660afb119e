;; Hand-written component whose nested component imports a core module and a
;; component and instantiates both; the enclosing component supplies them.
(component
  (core module $m
    (func (export "f") (param i32) (result i32)
      local.get 0
      i32.const 40
      i32.add))
  (component $leaf
    (core module $lm
      (func (export "g") (result i32)
        i32.const 7))
    (core instance $li (instantiate $lm))
    (func (export "g") (result u32) (canon lift (core func $li "g"))))
  (component $user
    (import "m" (core module $im
      (export "f" (func (param i32) (result i32)))))
    (import "c" (component $ic
      (export "g" (func (result u32)))))
    (core instance $i (instantiate $im))
    (instance $ci (instantiate $ic))
    (func (export "f") (param "x" u32) (result u32) (canon lift (core func $i "f")))
    (alias export $ci "g" (func $g))
    (export "g" (func $g)))
  (instance $u (instantiate $user
    (with "m" (core module $m))
    (with "c" (component $leaf))))
  (alias export $u "f" (func $f))
  (alias export $u "g" (func $g))
  (export "f" (func $f))
  (export "g" (func $g)))
