# error: is not inside network.lan (192.168.50.0/24) @ 7:13
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
vm "v" {
  host    = host.h
  mode    = "bridged"
  address = "192.168.122.5"
}
