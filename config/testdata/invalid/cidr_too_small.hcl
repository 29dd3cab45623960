# error: between /8 and /30 @ 2:24
network "lan" { cidr = "192.168.50.0/31" }
