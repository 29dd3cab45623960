# error: Set name =  @ 4:8
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
bridge "averyverylongbridge" {
  host = host.h
  cidr = "172.17.0.0/16"
}
