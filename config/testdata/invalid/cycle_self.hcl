# error: host.a -> host.a @ 3:1
network "lan" { cidr = "192.168.50.0/24" }
host "a" {
  network = network.lan
  address = cidrhost(host.a.network.cidr, 5)
}
