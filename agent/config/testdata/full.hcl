# Every stanza yurt reads, as an operator would write it for a production server+client.
data_dir  = "/var/lib/yurt"
bind_addr = "0.0.0.0"
region    = "europe"
datacenter = "fra1"
name      = "node-7"
log_level = "warn"
log_json  = true

leave_on_interrupt = true
leave_on_terminate = true

ports {
  http = 5646
  rpc  = 5647
  serf = 5648
}

addresses {
  http = "127.0.0.1"
  rpc  = "10.0.0.7"
  serf = "10.0.0.7"
}

advertise {
  http = "10.0.0.7"
  rpc  = "10.0.0.7:5647"
  serf = "[fd00::7]:5648"
}

server {
  enabled                   = true
  bootstrap_expect          = 3
  num_schedulers            = 2
  heartbeat_grace           = "30s"
  min_heartbeat_ttl         = "15s"
  max_heartbeats_per_second = 25.5
  failover_heartbeat_ttl    = "1m"
  job_gc_threshold          = "2h"
  deployment_gc_threshold   = "30m"

  server_join {
    retry_join     = ["10.0.0.1", "10.0.0.2:4648"]
    retry_interval = "15s"
    retry_max      = 5
  }
}

client {
  enabled           = true
  servers           = ["10.0.0.1:4647", "10.0.0.2"]
  node_class        = "compute"
  node_pool         = "batch"
  network_interface = "eth0"
  cpu_total_compute = 12000
  memory_total_mb   = 16384
  max_kill_timeout  = "2m"
  gc_interval       = "5m"

  meta {
    rack = "r12"
    tier = 2
  }

  options = {
    "driver.raw_exec.enable" = "1"
    "docker.cleanup.image"   = false
  }

  reserved {
    cpu            = 500
    memory         = 512
    disk           = 1024
    reserved_ports = "22,80,8000-8100"
  }

  host_volume "scratch" {
    path = "/mnt/scratch"
  }

  host_volume "certs" {
    path      = "/etc/ssl/certs"
    read_only = true
  }

  /* Clients find servers this way too. */
  server_join {
    retry_join = ["provider=aws tag_key=yurt tag_value=server"]
  }
}

telemetry {
  prometheus_metrics         = true
  collection_interval        = "10s"
  disable_hostname           = true
  publish_allocation_metrics = true
  publish_node_metrics       = true
}

tls {
  http                   = true
  rpc                    = true
  ca_file                = "/etc/yurt/ca.pem"
  cert_file              = "/etc/yurt/agent.pem"
  key_file               = "/etc/yurt/agent-key.pem"
  verify_server_hostname = true
  verify_https_client    = false
  tls_min_version        = "tls13"
}

acl {
  enabled    = true
  token_ttl  = "1m"
  policy_ttl = "90s"
}

limits {
  rpc_rate_limit = 250
  rpc_rate_burst = 500
}
