# error: undeclared local value @ 2:24
network "lan" { cidr = local.cidr }
