# error: The argument "cidr" is required @ 2:1
network "lan" {}
