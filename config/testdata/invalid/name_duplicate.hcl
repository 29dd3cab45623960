# error: is already used by host.a_b @ 4:1
network "lan" { cidr = "192.168.50.0/24" }
host "a_b" { network = network.lan }
host "a-b" { network = network.lan }
