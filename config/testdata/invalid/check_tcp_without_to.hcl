# error: needs to = @ 6:3
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
check "c" {
  from    = host.h
  tcp     = 80
  address = "192.168.50.1"
}
