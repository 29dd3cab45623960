# error: provider = "ssh" is an existing machine; set address @ 3:1
network "lan" { cidr = "192.168.50.0/24" }
host "h" {
  network  = network.lan
  provider = "ssh"
}
