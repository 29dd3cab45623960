# error: from 1 to 65535 @ 7:10
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
check "c" {
  from = host.h
  to   = host.h
  tcp  = 0
}
