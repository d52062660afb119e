;; Invalid on purpose: a string parameter without a memory option.
(component
  (core module $m
    (func (export "f") (param i32 i32)))
  (core instance $i (instantiate $m))
  (func (export "f") (param "s" string) (canon lift (core func $i "f"))))
