# error: not a valid CIDR @ 2:24
network "lan" { cidr = "192.168.50.0/33" }
