# error: got a collection of 2 instances; use one of them, such as host.a @ 6:13
network "lan" { cidr = "192.168.50.0/24" }
host "a" { network = network.lan }
host "b" { network = network.lan }
process "p" {
  on      = [host.a, host.b]
  command = ["true"]
}
