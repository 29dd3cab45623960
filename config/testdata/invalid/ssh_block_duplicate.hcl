# error: Only one ssh block is allowed @ 8:3
network "lan" { cidr = "192.168.50.0/24" }
host "h" {
  network  = network.lan
  provider = "ssh"
  address  = "192.168.50.5"
  ssh { user = "a" }
  ssh { user = "b" }
}
