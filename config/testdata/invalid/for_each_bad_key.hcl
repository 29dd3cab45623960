# error: Invalid for_each key @ 3:14
network "lan" {
  for_each = toset(["ok", "x;y"])
  cidr     = "10.0.0.0/24"
}
