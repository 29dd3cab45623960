# error: The loss "abc" is not a percentage @ 8:13
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
pod_network "k" { cidr = "10.244.0.0/16" }
pod "p" {
  host    = host.h
  network = pod_network.k
  loss    = "abc"
}
