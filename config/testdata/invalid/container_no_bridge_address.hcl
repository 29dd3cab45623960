# error: no eth0 for this address @ 7:13
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }

container "c" {
  host    = host.h
  address = "10.0.0.1"
}
