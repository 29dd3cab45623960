# error: provider "docker" is not supported @ 5:14
network "lan" { cidr = "192.168.50.0/24" }
host "h" {
  network  = network.lan
  provider = "docker"
}
