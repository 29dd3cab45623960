# error: has no pod subnet in pod_network.cluster @ 10:13
network "lan" { cidr = "192.168.50.0/24" }
host "a" { network = network.lan }
host "b" { network = network.lan }
pod_network "cluster" {
  cidr  = "10.244.0.0/16"
  hosts = [host.a]
}
pod "p" {
  host    = host.b
  network = pod_network.cluster
}
