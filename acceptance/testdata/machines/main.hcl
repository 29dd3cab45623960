# Two bare machines on a LAN: the "existing machines" the ssh provider test
# drives (they are netns hosts with a real sshd).
lab {
  name = "machines"
}

network "lan" {
  cidr = "192.168.50.0/24"
}

host "m" {
  count   = 2
  network = network.lan
}

output "addresses" {
  value = host.m[*].address
}
