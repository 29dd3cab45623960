# error: Unsupported argument @ 14:5
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
    host_port = 80
    port      = 80
    proto     = "tcp"
  }
}
