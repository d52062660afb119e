;; Hand-written component: lowered host imports (a utf16 string function whose
;; result comes back through a return pointer, and 17 parameters spilled to
;; memory), and a nested component instantiated with one of this component's
;; lifted functions, as composition tools emit them.
(component
  (import "host-concat" (func $concat (param "a" string) (param "b" string) (result string)))
  (import "host-sum17" (func $sum17
    (param "a1" u32) (param "a2" u32) (param "a3" u32) (param "a4" u32) (param "a5" u32)
    (param "a6" u32) (param "a7" u32) (param "a8" u32) (param "a9" u32) (param "a10" u32)
    (param "a11" u32) (param "a12" u32) (param "a13" u32) (param "a14" u32) (param "a15" u32)
    (param "a16" u32) (param "a17" u32) (result u32)))

  (core module $libc
    (memory (export "mem") 1)
    (global $bump (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      global.get $bump
      local.get 2
      i32.add
      i32.const 1
      i32.sub
      i32.const 0
      local.get 2
      i32.sub
      i32.and
      local.tee $p
      local.get 3
      i32.add
      global.set $bump
      local.get $p))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "mem" (core memory $mem))
  (alias core export $libc "realloc" (core func $realloc))

  (core func $concat_lowered
    (canon lower (func $concat) (memory $mem) (realloc $realloc) string-encoding=utf16))
  (core func $sum17_lowered (canon lower (func $sum17) (memory $mem)))

  (core module $main
    (import "libc" "mem" (memory 1))
    (import "host" "concat" (func $concat (param i32 i32 i32 i32 i32)))
    (import "host" "sum17" (func $sum17 (param i32) (result i32)))
    (data (i32.const 0) "a\00b\00")
    (data (i32.const 16) "\e9\00d\00")
    (func (export "concat-test") (result i32)
      i32.const 0
      i32.const 2
      i32.const 16
      i32.const 2
      i32.const 64
      call $concat
      i32.const 64)
    (func (export "sum-test") (result i32)
      (local $i i32)
      (loop $l
        local.get $i
        i32.const 4
        i32.mul
        local.get $i
        i32.const 1
        i32.add
        i32.store offset=128
        local.get $i
        i32.const 1
        i32.add
        local.tee $i
        i32.const 17
        i32.lt_u
        br_if $l)
      i32.const 128
      call $sum17)
    (func (export "add1") (param i32) (result i32)
      local.get 0
      i32.const 1
      i32.add))
  (core instance $main (instantiate $main
    (with "libc" (instance $libc))
    (with "host" (instance
      (export "concat" (func $concat_lowered))
      (export "sum17" (func $sum17_lowered))))))

  (func $concat_test (result string)
    (canon lift (core func $main "concat-test") (memory $mem) (realloc $realloc)
      string-encoding=utf16))
  (func $sum_test (result u32) (canon lift (core func $main "sum-test")))
  (func $add1 (param "x" u32) (result u32) (canon lift (core func $main "add1")))

  (component $inner
    (import "f" (func $f (param "x" u32) (result u32)))
    (core func $fl (canon lower (func $f)))
    (core module $m
      (import "" "f" (func $f (param i32) (result i32)))
      (func (export "g") (param i32) (result i32)
        local.get 0
        call $f
        i32.const 10
        i32.mul))
    (core instance $mi (instantiate $m (with "" (instance (export "f" (func $fl))))))
    (func $g (param "x" u32) (result u32) (canon lift (core func $mi "g")))
    (export "g" (func $g)))
  (instance $in (instantiate $inner (with "f" (func $add1))))
  (alias export $in "g" (func $g))

  (export "concat-test" (func $concat_test))
  (export "sum-test" (func $sum_test))
  (export "g" (func $g))
  (export "local:composed/inner" (instance $in))
)
