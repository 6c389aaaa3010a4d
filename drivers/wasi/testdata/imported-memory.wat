;; Imports its memory (env.memory, 1 to 10 pages) instead of defining it, and does not export
;; it. Prints a line, then grows by 5 pages twice and prints the results ("ok" or "fail").
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory 1 10))
  (data (i32.const 64) "imported memory\n")
  (data (i32.const 96) "ok\n")
  (data (i32.const 112) "fail\n")
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $grow
    (if (i32.eq (memory.grow (i32.const 5)) (i32.const -1))
      (then (call $print (i32.const 112) (i32.const 5)))
      (else (call $print (i32.const 96) (i32.const 3)))))
  (func (export "_start")
    (call $print (i32.const 64) (i32.const 16))
    (call $grow)
    (call $grow)))
