# error: broadcast address @ 5:13
network "lan" { cidr = "192.168.50.0/24" }
host "h" {
  network = network.lan
  address = "192.168.50.255"
}
