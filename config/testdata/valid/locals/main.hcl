lab { name = "locals" }

variable "prefix" {
  type    = string
  default = "10.9"
}

locals {
  lan_cidr = "${var.prefix}.0.0/16"
  n        = 2
}

locals {
  first    = host.h[0]
  addrs    = [for h in host.h : h.address]
  greeting = "hello from ${local.first.name}"
}

network "lan" { cidr = local.lan_cidr }

host "h" {
  count   = local.n
  network = network.lan
}

bridge "b" {
  host = local.first
  cidr = "10.10.0.0/24"
}

container "c" {
  host   = local.first
  bridge = bridge.b
}

process "p" {
  on      = container.c
  command = ["echo", local.greeting]
}

output "addrs" { value = local.addrs }
