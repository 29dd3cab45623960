# error: is not a duration like "20ms" @ 7:11
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
vm "v" {
  host = host.h
  mode = "nat"
  delay = "20"
}
