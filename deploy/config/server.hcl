# A server of a three-server cluster (yurt-server-1..3). The same file serves all three: the
# name defaults to the host name, and retry_join lists every server (an agent skips itself).
data_dir   = "/var/lib/yurt"
bind_addr  = "0.0.0.0"
region     = "global"
datacenter = "dc1"

# Stay a Raft peer across restarts (systemd stops the agent with SIGINT); remove a retired
# server explicitly instead, so a restart never shrinks the quorum.
leave_on_interrupt = false
leave_on_terminate = false

server {
  enabled          = true
  bootstrap_expect = 3
  heartbeat_grace  = "10s"
  server_join {
    retry_join     = ["yurt-server-1", "yurt-server-2", "yurt-server-3"]
    retry_interval = "15s"
  }
}

telemetry {
  prometheus_metrics  = true
  collection_interval = "1s"
  disable_hostname    = true
}
