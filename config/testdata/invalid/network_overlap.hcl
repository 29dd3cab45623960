# error: overlaps network.a @ 3:22
network "a" { cidr = "10.0.0.0/16" }
network "b" { cidr = "10.0.1.0/24" }
