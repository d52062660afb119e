;; Hand-written component defining a resource whose destructor reports the
;; rep to the host import "host-note": "make" hands an owned resource to the
;; host, "consume" takes one back and drops it (the destructor runs), and
;; "keep" creates one the guest keeps in its own handle table.
(component
  (import "host-note" (func $note (param "v" u32)))
  (core func $note_lowered (canon lower (func $note)))
  (core instance $host (export "note" (func $note_lowered)))
  (core module $d
    (import "host" "note" (func $note (param i32)))
    (func (export "dtor") (param i32)
      local.get 0
      i32.const 1000
      i32.add
      call $note))
  (core instance $d (instantiate $d (with "host" (instance $host))))
  (type $r (resource (rep i32) (dtor (core func $d "dtor"))))
  (core func $new (canon resource.new $r))
  (core func $drop (canon resource.drop $r))
  (core instance $res (export "new" (func $new)) (export "drop" (func $drop)))
  (core module $m
    (import "res" "new" (func $new (param i32) (result i32)))
    (import "res" "drop" (func $drop (param i32)))
    (func (export "make") (param i32) (result i32)
      local.get 0
      call $new)
    (func (export "consume") (param i32)
      local.get 0
      call $drop)
    (func (export "keep") (param i32)
      local.get 0
      call $new
      drop))
  (core instance $i (instantiate $m (with "res" (instance $res))))
  (export $rx "r" (type $r))
  (func (export "make") (param "rep" u32) (result (own $rx)) (canon lift (core func $i "make")))
  (func (export "consume") (param "x" (own $rx)) (canon lift (core func $i "consume")))
  (func (export "keep") (param "rep" u32) (canon lift (core func $i "keep"))))
