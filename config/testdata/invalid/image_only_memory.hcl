# error: only a container with image @ 6:12
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
container "c" {
  host   = host.h
  memory = "256MiB"
}
