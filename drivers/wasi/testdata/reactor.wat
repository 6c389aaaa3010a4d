;; A WASI reactor (a library: _initialize, no _start), which the driver does not run.
(module
  (memory (export "memory") 1)
  (func (export "_initialize")))
