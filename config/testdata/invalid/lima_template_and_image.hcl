# error: either template (a Lima template) or image (a disk image), not both @ 8:16
network "lan" { cidr = "192.168.50.0/24" }
host "h" {
  network  = network.lan
  provider = "lima"
  lima {
    template = "template://debian-12"
    image    = "/var/lib/images/debian.qcow2"
  }
}
