# error: NUL byte @ 6:22
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
process "p" {
  on      = host.h
  command = ["echo", "a\u0000b"]
}
