# error: unknown function @ 2:24
network "lan" { cidr = cidrsubnett("10.0.0.0/8", 8, 1) }
