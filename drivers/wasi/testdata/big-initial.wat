;; Asks for 300 pages (18.75 MiB) of memory at start: more than a 16 MB task may have.
(module
  (memory (export "memory") 300)
  (func (export "_start")))
