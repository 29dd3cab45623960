# error: use one of them, such as host.h[0] @ 8:13
network "lan" { cidr = "192.168.50.0/24" }
host "h" {
  count   = 2
  network = network.lan
}
process "p" {
  on      = host.h
  command = ["true"]
}
