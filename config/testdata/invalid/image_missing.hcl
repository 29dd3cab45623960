# error: cannot be read @ 6:11
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
container "c" {
  host  = host.h
  image = "docker-archive:images/none.tar"
}
