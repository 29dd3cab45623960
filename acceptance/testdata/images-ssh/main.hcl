# Image containers on existing machines reached over SSH (the machines
# lab's hosts): what labnet makes for them (runc containers, supervisors,
# overlays, bundles, cgroups) stays on the machines unless labnet removes
# it. The tests build images/busybox.tar from the machine's busybox-static.
lab {
  name = "imagesssh"
}
variable "addresses" {
  type = list(string)
}
variable "key" {
  type = string
}
variable "netns" {
  type = string
}
network "lan" { cidr = "192.168.50.0/24" }
host "node" {
  count    = 2
  network  = network.lan
  provider = "ssh"
  address  = var.addresses[count.index]
  ssh {
    private_key_file = var.key
    netns            = var.netns
  }
}
bridge "br" {
  count = 2
  host  = host.node[count.index]
  cidr  = "172.30.0.0/16"
}
container "web" {
  count        = 2
  host         = host.node[count.index]
  bridge       = bridge.br[count.index]
  image        = "docker-archive:images/busybox.tar"
  command      = ["httpd", "-f", "-p", "80", "-h", "/www"]
  memory       = "32MiB"
  cpus         = 0.25
  private_dirs = ["/www"]
  file "/www/index.html" { content = "hello over ssh\n" }
}
container "client" {
  count   = 2
  host    = host.node[count.index]
  bridge  = bridge.br[count.index]
  image   = "docker-archive:images/busybox.tar"
  command = ["sleep", "1000000"]
}
check "http" {
  from          = container.client[1]
  exec          = "busybox wget -qO- http://${container.web[1].address}/"
  expect_output = "hello over ssh"
}
