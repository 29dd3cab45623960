# error: on must be a host, a container, a vm or a pod, got a string @ 5:13
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
process "p" {
  on      = "host.h"
  command = ["true"]
}
