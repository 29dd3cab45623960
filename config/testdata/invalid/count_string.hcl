# error: must be a whole number @ 3:11
network "lan" {
  count = "two"
  cidr  = "10.0.0.0/24"
}
