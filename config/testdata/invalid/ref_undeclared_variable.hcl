# error: undeclared input variable @ 4:13
network "lan" { cidr = "192.168.50.0/24" }
host "h" {
  count   = var.nope
  network = network.lan
}
