# error: is not inside the nat_network of host.h (10.9.0.0/24) @ 10:13
network "lan" { cidr = "192.168.50.0/24" }
host "h" {
  network     = network.lan
  nat_network = "10.9.0.0/24"
}
vm "v" {
  host    = host.h
  mode    = "nat"
  address = "192.168.122.2"
}
