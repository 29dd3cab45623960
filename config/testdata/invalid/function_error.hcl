# error: Invalid function argument @ 2:52
network "lan" { cidr = cidrsubnet("10.0.0.0/8", 8, 300) }
