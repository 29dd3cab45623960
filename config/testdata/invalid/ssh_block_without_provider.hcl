# error: only allowed in a host with provider = "ssh" @ 5:3
network "lan" { cidr = "192.168.50.0/24" }
host "h" {
  network = network.lan
  ssh { user = "root" }
}
