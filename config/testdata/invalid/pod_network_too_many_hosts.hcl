# error: has room for only 3 @ 9:17
network "lan" { cidr = "192.168.50.0/24" }
host "n" {
  count   = 4
  network = network.lan
}
pod_network "cluster" {
  cidr        = "10.244.0.0/16"
  subnet_bits = 2
}
