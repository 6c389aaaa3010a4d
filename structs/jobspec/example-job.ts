/**
 * The job files `yurt job init` writes. Like `nomad job init`, a commented example that
 * shows the common blocks; unlike Nomad's, it runs on any Linux client without Docker: the
 * exec driver runs a shell loop.
 */

/** The commented example (`yurt job init`). */
export const EXAMPLE_JOB = `# A yurt job file. yurt reads Nomad's job specification: the blocks and
# arguments below mean what they mean in Nomad.

# Variables can be set with -var name=value, a -var-file, or NOMAD_VAR_name.
variable "greeting" {
  type        = string
  description = "What each instance prints."
  default     = "hello from yurt"
}

# The job is the unit you submit, update and stop. Its name is its ID.
job "example" {
  # Where it may run. "*" means any datacenter.
  datacenters = ["*"]

  # "service" jobs run until stopped; use "batch" for work that finishes,
  # "system" for one instance on every client.
  type = "service"

  # Only place it on Linux clients.
  constraint {
    attribute = "\${attr.kernel.name}"
    value     = "linux"
  }

  # Replace instances one at a time when the job changes, waiting until
  # each new one has been healthy for 10 seconds.
  update {
    max_parallel     = 1
    min_healthy_time = "10s"
    healthy_deadline = "3m"
    auto_revert      = true
  }

  # A group is a set of tasks placed together on one client; count is how
  # many instances of the group to run.
  group "greeter" {
    count = 2

    # Restart a failed task on the same client twice in 30 minutes, then
    # give up there so the scheduler can place it elsewhere.
    restart {
      attempts = 2
      interval = "30m"
      delay    = "15s"
      mode     = "fail"
    }

    # Scratch space shared by the group's tasks, in MB.
    ephemeral_disk {
      size = 300
    }

    # A task is one process, run by a driver.
    task "loop" {
      driver = "exec"

      config {
        command = "/bin/sh"
        args    = ["-c", "while true; do echo \\"$GREETING ($NOMAD_ALLOC_INDEX)\\"; sleep 10; done"]
      }

      env {
        GREETING = var.greeting
      }

      # CPU in MHz and memory in MB the task may use.
      resources {
        cpu    = 100
        memory = 64
      }

      # Keep at most 3 log files of 5 MB each.
      logs {
        max_files     = 3
        max_file_size = 5
      }

      # Time to exit after SIGINT before the task is killed.
      kill_timeout = "10s"
    }
  }
}
`;

/** The short example (`yurt job init -short`). */
export const EXAMPLE_JOB_SHORT = `job "example" {
  datacenters = ["*"]

  group "greeter" {
    task "loop" {
      driver = "exec"

      config {
        command = "/bin/sh"
        args    = ["-c", "while true; do echo hello from yurt; sleep 10; done"]
      }

      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
`;
