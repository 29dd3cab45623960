# error: only a container with image @ 6:13
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
container "c" {
  host    = host.h
  command = ["sleep", "1"]
}
