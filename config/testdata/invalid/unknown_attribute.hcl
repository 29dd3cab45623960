# error: Unsupported argument @ 4:3
network "lan" {
  cidr  = "10.0.0.0/24"
  cidrs = "10.1.0.0/24"
}
