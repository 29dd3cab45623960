# error: needs exactly one of bridge = <bridge> or segment = <segment> @ 4:1
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
container "c" { host = host.h }
