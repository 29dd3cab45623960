# error: pod_network names may be at most 20 characters @ 3:13
network "lan" { cidr = "192.168.50.0/24" }
pod_network "a-very-long-pod-network" { cidr = "10.244.0.0/16" }
