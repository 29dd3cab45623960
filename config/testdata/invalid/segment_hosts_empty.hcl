# error: hosts must list at least one host @ 6:11
network "lan" { cidr = "192.168.50.0/24" }
segment "s" {
  vni   = 100
  cidr  = "10.100.0.0/24"
  hosts = []
}
