variable "dcs" {
  type    = list(string)
  default = ["dc1"]
}

variable "replicas" {
  type = number
}

variable "image" {
  description = "No type and no default: any value is taken as text."
}

variable "debug" {
  type    = bool
  default = false
}

variables {
  region = "eu"
}

job "vars" {
  datacenters = var.dcs
  region      = var.region

  meta {
    image = var.image
    debug = var.debug
    label = "${var.dcs[0]}-${var.replicas}"
  }

  group "g" {
    count = var.replicas

    task "t" {
      driver = "docker"

      config {
        image = var.image
        debug = var.debug
      }
    }
  }
}
