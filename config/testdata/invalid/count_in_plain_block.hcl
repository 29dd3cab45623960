# error: non-count context @ 2:52
network "lan" { cidr = cidrsubnet("10.0.0.0/8", 8, count.index) }
