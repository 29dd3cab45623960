# error: mutually exclusive @ 4:3
network "lan" {
  count    = 1
  for_each = toset(["a"])
  cidr     = "10.0.0.0/24"
}
