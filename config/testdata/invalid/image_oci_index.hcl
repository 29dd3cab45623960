# error: "@first" is not an index position @ 6:11
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
container "c" {
  host  = host.h
  image = "oci:images/busybox:@first"
}
