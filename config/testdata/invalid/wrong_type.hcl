# error: a bool is required @ 7:16
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
bridge "br" {
  host = host.h
  cidr = "172.17.0.0/16"
  masquerade = ["yes"]
}
