# One image container with a memory limit (TestImageLimitWithoutController
# builds images/busybox.tar and applies it where no memory controller is
# mounted).
lab {
  name = "imageslimit"
}
network "lan" { cidr = "192.168.74.0/24" }
host "node" { network = network.lan }
bridge "br" {
  host = host.node
  cidr = "172.27.0.0/16"
}
container "worker" {
  host    = host.node
  bridge  = bridge.br
  image   = "docker-archive:images/busybox.tar"
  command = ["sleep", "1000000"]
  memory  = "64MiB"
}
