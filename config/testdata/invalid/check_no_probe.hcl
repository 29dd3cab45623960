# error: exactly one of ping, tcp, udp, exec or route @ 4:1
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
check "c" {
  from = host.h
  to   = host.h
}
