job "transcode" {
  type = "batch"

  parameterized {
    payload       = "required"
    meta_required = ["input"]
    meta_optional = ["preset"]
  }

  group "work" {
    task "ffmpeg" {
      driver = "exec"

      config {
        command = "/usr/bin/ffmpeg"
        args    = ["-i", "${NOMAD_META_input}"]
      }
    }
  }
}
