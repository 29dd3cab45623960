# error: The loss "1" is not a percentage @ 7:10
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
vm "v" {
  host = host.h
  mode = "nat"
  loss = 1
}
