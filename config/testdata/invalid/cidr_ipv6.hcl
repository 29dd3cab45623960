# error: only IPv4 is supported @ 2:24
network "lan" { cidr = "fd00::/64" }
