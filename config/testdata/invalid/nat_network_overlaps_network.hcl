# error: nat_network 192.168.50.128/25 of host.h overlaps its network @ 5:17
network "lan" { cidr = "192.168.50.0/24" }
host "h" {
  network     = network.lan
  nat_network = "192.168.50.128/25"
}
