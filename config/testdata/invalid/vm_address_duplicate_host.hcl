# error: address 192.168.50.11 of vm.v is already used by host.h @ 7:13
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
vm "v" {
  host    = host.h
  mode    = "bridged"
  address = host.h.address
}
