ports {
  http = 70000
  rpc  = 4647
}
client {
  servers = ["10.0.0.1:0"]
  reserved {
    reserved_ports = "80,9000-8000"
  }
}
