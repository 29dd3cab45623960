# error: A container "app" was already declared in pod.p @ 11:13
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
pod_network "cluster" { cidr = "10.244.0.0/16" }
pod "p" {
  host    = host.h
  network = pod_network.cluster
  container "app" {
    command = ["sleep", "1"]
  }
  container "app" {
    command = ["sleep", "2"]
  }
}
