job "example" {
  group "cache" {
    task "redis" {
      config {
        command = "/bin/true"
      }
    }

    task "sidecar" {
      config {
        command = "/bin/true"
      }
    }
  }
}
