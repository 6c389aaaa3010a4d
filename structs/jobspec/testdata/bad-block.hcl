job "example" {
  datacenters = ["dc1"]

  group "cache" {
    count = 1

    task "redis" {
      driver = "docker"
      config {
        image = "redis:7"
      }
    }
    taks "typo" {
      driver = "exec"
    }
  }
}
