;; Hand-written component whose start function traps (unreachable):
;; instantiating it must fail with the trap.
(component
  (core module $m
    (func (export "init") unreachable))
  (core instance $i (instantiate $m))
  (func $init (canon lift (core func $i "init")))
  (start $init))
