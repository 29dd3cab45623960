# error: overlaps network.lan @ 6:10
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
bridge "br" {
  host = host.h
  cidr = "192.168.0.0/16"
}
