# Base agent config of the image. Flags given to the container (-server, -client,
# -bootstrap-expect, -retry-join, -servers) add the role; files mounted into /etc/yurt.d load
# after this one and override it.
data_dir  = "/var/lib/yurt"
bind_addr = "0.0.0.0"
