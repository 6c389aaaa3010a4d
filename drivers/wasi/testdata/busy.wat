;; A command without memory or imports whose _start never returns: stop must still end it.
(module
  (func (export "_start")
    (loop $forever (br $forever))))
