# error: host must be a host, got vm.x @ 9:10
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
vm "x" {
  host = host.h
  mode = "nat"
}
vm "y" {
  host = vm.x
  mode = "nat"
}
