# error: is not a registry reference @ 6:11
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
container "c" {
  host  = host.h
  image = "docker://127.0.0.1:5000/bb@sha256:12ab"
}
