;; Loops forever in its start function, i.e. during instantiation, before _start.
(module
  (memory (export "memory") 1)
  (func $spin (loop $forever (br $forever)))
  (start $spin)
  (func (export "_start")))
