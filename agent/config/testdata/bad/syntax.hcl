server {
  enabled = true
  bootstrap_expect =
}
