# error: must be a whole number @ 3:11
network "lan" {
  count = 1.5
  cidr  = "10.0.0.0/24"
}
