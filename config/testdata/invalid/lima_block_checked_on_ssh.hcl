# error: The memory "lots" is not a size @ 8:19
network "lan" { cidr = "192.168.50.0/24" }
host "h" {
  network  = network.lan
  provider = "ssh"
  address  = "192.168.50.5"
  # a lima block on an ssh host is not used, but it is still checked
  lima { memory = "lots" }
}
