# A client node of the three-server cluster.
data_dir   = "/var/lib/yurt"
bind_addr  = "0.0.0.0"
region     = "global"
datacenter = "dc1"

# A client that is stopped on purpose leaves: its allocations are replaced at once instead of
# after the heartbeat grace period.
leave_on_interrupt = true

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
    disk   = 1024
  }
}

telemetry {
  prometheus_metrics         = true
  collection_interval        = "1s"
  disable_hostname           = true
  publish_allocation_metrics = true
  publish_node_metrics       = true
}
