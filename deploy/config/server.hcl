# A server of a three-server cluster.
data_dir   = "/var/lib/yurt"
bind_addr  = "0.0.0.0"
datacenter = "dc1"

server {
  enabled          = true
  bootstrap_expect = 3
  server_join {
    retry_join = ["yurt-server-1", "yurt-server-2", "yurt-server-3"]
  }
}
