# error: set nat_network on the host @ 6:10
network "lan" { cidr = "192.168.0.0/16" }
host "h" { network = network.lan }
vm "v" {
  host = host.h
  mode = "nat"
}
