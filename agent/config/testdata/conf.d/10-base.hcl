data_dir   = "/var/lib/yurt"
datacenter = "dc-a"
log_level  = "DEBUG"

server {
  enabled          = true
  bootstrap_expect = 3
  server_join {
    retry_join     = ["10.0.0.1", "10.0.0.2"]
    retry_interval = "20s"
  }
}

client {
  enabled = true
  servers = ["10.0.0.1:4647"]
  meta {
    rack = "r1"
    zone = "a"
  }
  host_volume "data" {
    path      = "/srv/data"
    read_only = true
  }
}
