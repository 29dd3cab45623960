# error: at least one element @ 6:13
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
process "p" {
  on      = host.h
  command = []
}
