# error: must start with a lowercase letter @ 3:6
network "lan" { cidr = "192.168.50.0/24" }
host "a;rm -rf /" { network = network.lan }
