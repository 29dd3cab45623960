# error: address 192.168.50.11 of host.b is already used by host.a @ 6:13
network "lan" { cidr = "192.168.50.0/24" }
host "a" { network = network.lan }
host "b" {
  network = network.lan
  address = "192.168.50.11"
}
