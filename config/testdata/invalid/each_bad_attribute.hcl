# error: only the attribute(s) key and value @ 4:14
network "lan" {
  for_each = toset(["a"])
  cidr     = each.val
}
