job "nightly" {
  type = "batch"

  periodic {
    crons            = ["30 2 * * *"]
    prohibit_overlap = true
    time_zone        = "Europe/Berlin"
  }

  group "report" {
    task "build" {
      driver = "exec"

      config {
        command = "/bin/sh"
        args    = ["-c", "echo report"]
      }
    }
  }
}
