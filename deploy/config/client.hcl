# A client node.
data_dir   = "/var/lib/yurt"
bind_addr  = "0.0.0.0"
datacenter = "dc1"

client {
  enabled    = true
  servers    = ["yurt-server-1:4647", "yurt-server-2:4647", "yurt-server-3:4647"]
  node_class = "general"
  meta {
    rack = "r1"
  }
  reserved {
    cpu    = 200
    memory = 256
  }
}
