# error: host.a -> host.b -> host.a @ 3:1
network "lan" { cidr = "192.168.50.0/24" }
host "a" {
  network = network.lan
  address = host.b.address
}
host "b" {
  network = network.lan
  address = host.a.address
}
