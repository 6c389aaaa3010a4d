# A client node of the three-server cluster.
data_dir   = "/var/lib/yurt"
bind_addr  = "0.0.0.0"
region     = "global"
datacenter = "dc1"

# systemd stops the agent with SIGINT (yurt-client.service). Its tasks keep running while it
# restarts (KillMode=process) and it picks them up again, so a restart must not leave the
# cluster. To retire the node, drain it first: yurt node drain -self -enable.
leave_on_interrupt = false
leave_on_terminate = false

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
