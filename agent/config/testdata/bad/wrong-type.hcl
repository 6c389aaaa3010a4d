log_json = "yes"

server {
  enabled          = true
  bootstrap_expect = "three"
  server_join {
    retry_join = ["10.0.0.1", 42]
  }
}

client {
  gc_interval = "5 minutes"
  meta        = ["not", "a", "map"]
}
