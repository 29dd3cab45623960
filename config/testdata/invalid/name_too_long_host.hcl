# error: at most 12 characters @ 3:6
network "lan" { cidr = "192.168.50.0/24" }
host "averyverylonghost" { network = network.lan }
