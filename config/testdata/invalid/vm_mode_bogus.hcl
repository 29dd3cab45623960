# error: mode must be "bridged" or "nat", got "bogus" @ 6:10
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
vm "v" {
  host = host.h
  mode = "bogus"
}
