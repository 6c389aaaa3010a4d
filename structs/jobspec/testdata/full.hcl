# Every stanza yurt reads from a Nomad job file, in one service job.
# (periodic and parameterized need a batch job: see periodic.hcl and dispatch.hcl.)

variable "image_tag" {
  type        = string
  description = "nginx image tag"
  default     = "1.25"
}

variable "replicas" {
  type    = number
  default = 3
}

job "full" {
  region      = "eu"
  namespace   = "apps"
  datacenters = ["dc1", "dc2"]
  node_pool   = "prod"
  type        = "service"
  priority    = 70
  all_at_once = true

  meta {
    owner = "team-a"
    tier  = 2
  }

  constraint {
    attribute = "${attr.kernel.name}"
    value     = "linux"
  }

  constraint {
    distinct_hosts = true
  }

  affinity {
    attribute = "${node.datacenter}"
    value     = "dc1"
    weight    = 80
  }

  spread {
    attribute = "${node.datacenter}"
    weight    = 60

    target "dc1" {
      percent = 70
    }

    target "dc2" {
      percent = 30
    }
  }

  update {
    max_parallel      = 2
    health_check      = "task_states"
    min_healthy_time  = "15s"
    healthy_deadline  = "4m"
    progress_deadline = "8m"
    auto_revert       = true
    auto_promote      = true
    canary            = 1
    stagger           = "45s"
  }

  # Job-level reschedule and migrate apply to every group.
  reschedule {
    delay = "40s"
  }

  migrate { max_parallel = 2 }

  group "web" {
    count = var.replicas

    constraint {
      attribute = "${meta.rack}"
      operator  = "regexp"
      value     = "^r[0-9]+$"
    }

    affinity {
      attribute = "${attr.cpu.arch}"
      value     = "amd64"
      weight    = -30
    }

    spread {
      attribute = "${meta.rack}"
    }

    restart {
      attempts = 5
      interval = "10m"
      delay    = "20s"
      mode     = "delay"
    }

    reschedule {
      delay_function = "fibonacci"
      max_delay      = "2h"
    }

    ephemeral_disk {
      size    = "1GiB"
      sticky  = true
      migrate = true
    }

    update {
      canary = 2
    }

    migrate {
      health_check     = "task_states"
      min_healthy_time = "5s"
      healthy_deadline = "1m"
    }

    network {
      mode = "bridge"

      port "http" {
        to = 8080
      }

      port "admin" {
        static       = 9090
        to           = 9091
        host_network = "internal"
      }
    }

    service {
      name     = "web-http"
      port     = "http"
      provider = "nomad"
      tags     = ["public", "v${var.image_tag}"]

      check {
        type     = "http"
        path     = "/health"
        interval = "10s"
        timeout  = "2s"
      }
    }

    volume "data" {
      type      = "host"
      source    = "shared-data"
      read_only = false
    }

    meta = {
      "team.name" = "web"
    }

    shutdown_delay = "5s"

    task "server" {
      driver = "docker"
      user   = "nobody"
      leader = true

      config {
        image  = "nginx:${var.image_tag}"
        ports  = ["http"]
        args   = ["-g", "daemon off;", "${NOMAD_TASK_DIR}/nginx.conf"]
        labels = { app = "web" }

        mount {
          type   = "bind"
          source = "local/conf"
          target = "/etc/nginx/conf.d"
        }

        mount {
          type   = "tmpfs"
          target = "/cache"
        }

        logging {
          type = "json-file"
          config {
            max-size = "10m"
          }
        }
      }

      env {
        PORT     = "${NOMAD_PORT_http}"
        HOME_DIR = "${env["HOME"]}"
        TAG      = var.image_tag
        LITERAL  = "$${NOT_INTERPOLATED}"
      }

      resources {
        cpu        = 500
        memory     = 256
        memory_max = "512MiB"

        device "nvidia/gpu" {
          count = 2

          constraint {
            attribute = "${device.attr.memory}"
            operator  = ">="
            value     = "2 GiB"
          }

          affinity {
            attribute = "${device.model}"
            value     = "Tesla K80"
            weight    = 50
          }
        }
      }

      restart {
        attempts = 1
      }

      meta {
        role = "frontend"
      }

      kill_timeout = "20s"
      kill_signal  = "SIGTERM"

      logs {
        max_files     = 5
        max_file_size = 15
      }

      artifact {
        source      = "https://example.com/site.tar.gz"
        destination = "local/site"

        options {
          checksum = "sha256:abcd"
        }
      }

      template {
        data          = <<-EOT
          listen {{ env "NOMAD_PORT_http" }};
          root ${NOMAD_ALLOC_DIR}/site;
          EOT
        destination   = "local/conf/default.conf"
        change_mode   = "signal"
        change_signal = "sighup"
        splay         = "3s"
        perms         = "0640"
      }

      service {
        name = "web-admin"
        port = "admin"

        check {
          type     = "tcp"
          interval = "5s"
          timeout  = "1s"
        }
      }

      constraint {
        attribute = "${attr.driver.docker}"
        value     = "1"
      }

      affinity {
        attribute = "${node.class}"
        value     = "fast"
      }

      shutdown_delay = "2s"

      volume_mount {
        volume      = "data"
        destination = "/srv/data"
        read_only   = true
      }
    }

    task "log-shipper" {
      driver = "raw_exec"

      lifecycle {
        hook    = "prestart"
        sidecar = true
      }

      config {
        command = "/usr/local/bin/ship"
        args    = ["--dir", "${NOMAD_ALLOC_DIR}/logs"]
      }
    }
  }

  group "cache" {
    task "redis" {
      driver = "exec"

      config {
        command = "/usr/bin/redis-server"
      }

      resources {
        cores  = 2
        memory = "1GB"
      }
    }
  }
}
