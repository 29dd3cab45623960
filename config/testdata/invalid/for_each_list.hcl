# error: Use toset(...) @ 3:14
network "lan" {
  for_each = ["a", "b"]
  cidr     = "10.0.0.0/24"
}
