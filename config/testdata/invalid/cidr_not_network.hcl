# error: use 192.168.50.0/24 @ 2:24
network "lan" { cidr = "192.168.50.1/24" }
