# error: vni must be a whole number from 1 to 16777215 @ 5:10
network "lan" { cidr = "192.168.50.0/24" }
pod_network "cluster" {
  cidr = "10.244.0.0/16"
  vni  = 16777216
}
