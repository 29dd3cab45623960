# error: at least 1kbit, got "999bit" @ 7:10
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
vm "v" {
  host = host.h
  mode = "nat"
  rate = "999bit"
}
