# error: no segment = <segment> @ 4:1
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
vm "v" {
  host = host.h
  mode = "segment"
}
