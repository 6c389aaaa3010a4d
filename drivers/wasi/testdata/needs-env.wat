;; Imports a function WASI does not have: start must fail and name it.
(module
  (import "env" "host_random" (func $r (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (drop (call $r))))
