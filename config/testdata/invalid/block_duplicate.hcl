# error: already declared @ 4:1
network "lan" { cidr = "192.168.50.0/24" }
host "a" { network = network.lan }
host "a" { network = network.lan }
