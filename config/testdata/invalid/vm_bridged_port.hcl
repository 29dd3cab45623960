# error: a bridged VM is reached at its own address; ports are for nat VMs @ 7:3
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
vm "v" {
  host = host.h
  mode = "bridged"
  port {
    host_port = 8080
    port      = 80
  }
}
