# error: must be an IPv4 address @ 8:13
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
check "c" {
  from    = host.h
  to      = host.h
  tcp     = 80
  address = "10.0.0.1:99999"
}
