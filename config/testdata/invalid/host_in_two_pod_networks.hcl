# error: host.b is already in pod_network.one @ 11:12
network "lan" { cidr = "192.168.50.0/24" }
host "a" { network = network.lan }
host "b" { network = network.lan }
pod_network "one" {
  cidr  = "10.244.0.0/16"
  hosts = [host.a, host.b]
}
pod_network "two" {
  cidr  = "10.245.0.0/16"
  hosts = [host.b]
}
