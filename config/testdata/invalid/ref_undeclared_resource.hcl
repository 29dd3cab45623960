# error: A network named "wan" has not been declared @ 3:22
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.wan }
