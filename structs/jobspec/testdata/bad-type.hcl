job "example" {
  group "cache" {
    count = "three"

    task "redis" {
      driver = "exec"
    }
  }
}
