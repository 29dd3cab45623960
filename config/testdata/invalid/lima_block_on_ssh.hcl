# error: lima block is only allowed in a host with provider = "lima" @ 7:3
network "lan" { cidr = "192.168.50.0/24" }
host "h" {
  network  = network.lan
  provider = "ssh"
  address  = "192.168.50.5"
  lima { cpus = 2 }
}
