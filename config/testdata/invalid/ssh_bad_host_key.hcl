# error: host_key must be a public key in authorized_keys form @ 8:16
network "lan" { cidr = "192.168.50.0/24" }
host "h" {
  network  = network.lan
  provider = "ssh"
  address  = "192.168.50.5"
  ssh {
    host_key = "ssh-ed25519 not-base64"
  }
}
