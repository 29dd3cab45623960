# error: overlaps network.lan (10.0.0.0/16) @ 4:32
network "lan" { cidr = "10.0.0.0/16" }
host "h" { network = network.lan }
pod_network "cluster" { cidr = "10.0.0.0/8" }
