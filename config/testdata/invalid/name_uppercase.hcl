# error: must start with a lowercase letter @ 2:9
network "Lan" { cidr = "10.0.0.0/24" }
