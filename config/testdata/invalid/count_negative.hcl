# error: must not be negative @ 3:11
network "lan" {
  count = -1
  cidr  = "10.0.0.0/24"
}
