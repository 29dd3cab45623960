# error: sets both tcp and udp @ 8:3
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
check "c" {
  from = host.h
  to   = host.h
  tcp  = 80
  udp  = 53
}
