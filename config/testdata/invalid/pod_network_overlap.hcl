# error: overlaps pod_network.a (10.244.0.0/16) @ 7:10
network "lan" { cidr = "192.168.50.0/24" }
pod_network "a" {
  cidr  = "10.244.0.0/16"
}
pod_network "b" {
  cidr = "10.244.128.0/17"
}
