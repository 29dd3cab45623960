# error: There is no variable named "foo" @ 2:24
network "lan" { cidr = foo.bar }
