lab { name = "docker" }
variable "hosts" {
  type    = number
  default = 2
}
network "lan" { cidr = "192.168.50.0/24" }
host "node" {
  count   = var.hosts
  network = network.lan
}
bridge "docker0" {
  count      = var.hosts
  host       = host.node[count.index]
  cidr       = "172.17.0.0/16"
  masquerade = true
}
container "web" {
  count  = var.hosts
  host   = host.node[count.index]
  bridge = bridge.docker0[count.index]
  port {
    host_port = 8080
    port      = 80
  }
}
container "client" {
  count  = var.hosts
  host   = host.node[count.index]
  bridge = bridge.docker0[count.index]
}
process "web" {
  count   = var.hosts
  on      = container.web[count.index]
  command = ["python3", "-m", "http.server", "8000"]
}
check "same-host" {
  from   = container.client[0]
  to     = container.web[0]
  tcp    = 81
  source = container.client[0].address
}
check "published" {
  from    = host.node[0]
  to      = container.web[1]
  tcp     = 80
  address = "${host.node[1].address}:8080"
  source  = host.node[0].address
}
output "web_addresses" { value = container.web[*].address }
