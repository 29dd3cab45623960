# error: must be a set of strings or a map, got a number @ 3:14
network "lan" {
  for_each = 3
  cidr     = "10.0.0.0/24"
}
