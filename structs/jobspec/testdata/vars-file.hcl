# Values for vars.hcl, as given with -var-file.
replicas = 5
image    = "redis:6"
