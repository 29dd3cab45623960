# error: must be positive @ 8:13
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
check "c" {
  from    = host.h
  to      = host.h
  ping    = true
  timeout = "0s"
}
