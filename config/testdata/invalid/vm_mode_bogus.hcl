# error: must be "bridged", "nat" or "segment", got "bogus" @ 6:10
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
vm "v" {
  host = host.h
  mode = "bogus"
}
