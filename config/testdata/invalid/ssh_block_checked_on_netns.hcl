# error: The ssh user "no body" must match @ 6:16
network "lan" { cidr = "192.168.50.0/24" }
host "h" {
  network = network.lan
  # an ssh block on a netns host is not used, but it is still checked
  ssh { user = "no body" }
}
