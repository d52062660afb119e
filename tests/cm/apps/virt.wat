;; Hand-written composition shaped like a WASI-Virt one: a virtualiser
;; component imports the host's stream interface and re-exports it through an
;; inner component (the passthrough WASI-Virt emits), and the application
;; imports the re-exported instance. The application gets an output stream
;; from the host (a handle of the host's resource, known to the application
;; through two re-exports) and writes to it through the method. "run-direct"
;; does the same from the composing component itself, through functions it
;; aliases from the virtualiser's instance (whose types the virtualiser's
;; nested components declare).
(component
  ;; another interface's resource first, so that resource type indices of
  ;; the composing component and of the nested ones differ
  (import "test:io/error" (instance $err (export "error" (type (sub resource)))))
  (type $streams (instance
    (export "output-stream" (type $os (sub resource)))
    (export "get-stdout" (func (result (own $os))))
    (export "[method]output-stream.write" (func (param "self" (borrow $os)) (param "v" u32) (result u32)))))
  (import "test:io/streams" (instance $host (type $streams)))

  (component $virt
    (type $streams (instance
      (export "output-stream" (type $os (sub resource)))
      (export "get-stdout" (func (result (own $os))))
      (export "[method]output-stream.write" (func (param "self" (borrow $os)) (param "v" u32) (result u32)))))
    (import "test:io/streams" (instance $in (type $streams)))
    (component $inner
      (type $streams (instance
        (export "output-stream" (type $os (sub resource)))
        (export "get-stdout" (func (result (own $os))))
        (export "[method]output-stream.write" (func (param "self" (borrow $os)) (param "v" u32) (result u32)))))
      (import "test:io/streams" (instance $j (type $streams)))
      ;; re-exported as a bundle of aliases, as wit-component writes it
      (alias export $j "output-stream" (type $os))
      (alias export $j "get-stdout" (func $gs))
      (alias export $j "[method]output-stream.write" (func $w))
      (instance $out
        (export "output-stream" (type $os))
        (export "get-stdout" (func $gs))
        (export "[method]output-stream.write" (func $w)))
      (export "test:io/streams" (instance $out)))
    (instance $inner (instantiate $inner (with "test:io/streams" (instance $in))))
    (alias export $inner "test:io/streams" (instance $re))
    (export "test:io/streams" (instance $re)))

  (component $app
    (type $streams (instance
      (export "output-stream" (type $os (sub resource)))
      (export "get-stdout" (func (result (own $os))))
      (export "[method]output-stream.write" (func (param "self" (borrow $os)) (param "v" u32) (result u32)))))
    (import "test:io/streams" (instance $s (type $streams)))
    (alias export $s "get-stdout" (func $gs))
    (alias export $s "[method]output-stream.write" (func $w))
    (alias export $s "output-stream" (type $os))
    (core func $gs_lowered (canon lower (func $gs)))
    (core func $w_lowered (canon lower (func $w)))
    (core func $drop (canon resource.drop $os))
    (core instance $imports
      (export "get-stdout" (func $gs_lowered))
      (export "write" (func $w_lowered))
      (export "drop" (func $drop)))
    (core module $m
      (import "s" "get-stdout" (func $gs (result i32)))
      (import "s" "write" (func $w (param i32 i32) (result i32)))
      (import "s" "drop" (func $drop (param i32)))
      (func (export "run") (param i32) (result i32)
        (local $h i32) (local $r i32)
        call $gs
        local.tee $h
        local.get 0
        call $w
        local.set $r
        local.get $h
        call $drop
        local.get $r))
    (core instance $i (instantiate $m (with "s" (instance $imports))))
    (func (export "run") (param "v" u32) (result u32) (canon lift (core func $i "run"))))

  (instance $v (instantiate $virt (with "test:io/streams" (instance $host))))
  (alias export $v "test:io/streams" (instance $vs))
  (instance $a (instantiate $app (with "test:io/streams" (instance $vs))))
  (alias export $a "run" (func $run))
  (export "run" (func $run))

  (alias export $vs "get-stdout" (func $ogs))
  (alias export $vs "[method]output-stream.write" (func $ow))
  (alias export $vs "output-stream" (type $oos))
  (core func $ogs_lowered (canon lower (func $ogs)))
  (core func $ow_lowered (canon lower (func $ow)))
  (core func $odrop (canon resource.drop $oos))
  (core instance $oimports
    (export "get-stdout" (func $ogs_lowered))
    (export "write" (func $ow_lowered))
    (export "drop" (func $odrop)))
  (core module $om
    (import "s" "get-stdout" (func $gs (result i32)))
    (import "s" "write" (func $w (param i32 i32) (result i32)))
    (import "s" "drop" (func $drop (param i32)))
    (func (export "run") (param i32) (result i32)
      (local $h i32) (local $r i32)
      call $gs
      local.tee $h
      local.get 0
      call $w
      local.set $r
      local.get $h
      call $drop
      local.get $r))
  (core instance $oi (instantiate $om (with "s" (instance $oimports))))
  (func (export "run-direct") (param "v" u32) (result u32) (canon lift (core func $oi "run"))))
