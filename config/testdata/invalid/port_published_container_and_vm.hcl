# error: host port 8080/tcp on host.h is already published by container.c @ 20:17
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
bridge "br" {
  host = host.h
  cidr = "172.17.0.0/16"
}
container "c" {
  host   = host.h
  bridge = bridge.br
  port {
    host_port = 8080
    port      = 80
  }
}
vm "v" {
  host = host.h
  mode = "nat"
  port {
    host_port = 8080
    port      = 8000
  }
}
