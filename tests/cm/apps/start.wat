;; Hand-written component with a start function: it calls the host import
;; "host-note" with 42 when the component is instantiated, and its export
;; "started" returns what the start function stored (the guest ran first).
(component
  (import "host-note" (func $note (param "v" u32)))
  (core func $note_lowered (canon lower (func $note)))
  (core module $m
    (import "host" "note" (func $note (param i32)))
    (global $seen (mut i32) (i32.const 0))
    (func (export "init")
      i32.const 42
      call $note
      i32.const 7
      global.set $seen)
    (func (export "started") (result i32)
      global.get $seen))
  (core instance $host (export "note" (func $note_lowered)))
  (core instance $i (instantiate $m (with "host" (instance $host))))
  (func $init (canon lift (core func $i "init")))
  (func (export "started") (result u32) (canon lift (core func $i "started")))
  (start $init))
