job "example" {
  group "cache" {
    count = -1

    task "redis" {
      driver = "exec"
    }
  }
}
