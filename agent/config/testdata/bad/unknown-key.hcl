server {
  enabled = true
  bootstrap_expected = 3
}
telemetri {
  prometheus_metrics = true
}
