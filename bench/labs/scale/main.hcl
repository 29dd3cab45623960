# labnet's scale benchmark lab (bench/run.sh, acceptance/exchanges_test.go):
# one netns host, one /16 bridge, var.n containers on it, and optional
# checks: var.pings containers each ping the bridge's gateway, var.pairs
# pairwise tcp checks container i -> container i+1 (mod n).
#
# bench/run.sh copies this directory and renames the lab, as the
# acceptance tests do with labs/.

lab {
  name = "bench-scale"
}

variable "n" {
  type    = number
  default = 0
}

variable "pings" {
  type    = number
  default = 0
}

variable "pairs" {
  type    = number
  default = 0
}

variable "lan_cidr" {
  type    = string
  default = "192.168.231.0/24"
}

variable "bridge_cidr" {
  type    = string
  default = "10.77.0.0/16"
}

network "lan" {
  cidr = var.lan_cidr
}

host "h" {
  network = network.lan
}

bridge "lbr" {
  host = host.h
  cidr = var.bridge_cidr
}

container "c" {
  count  = var.n
  host   = host.h
  bridge = bridge.lbr
}

check "gw" {
  count   = var.pings
  from    = container.c[count.index]
  ping    = true
  address = bridge.lbr.gateway
}

check "pair" {
  count = var.pairs
  from  = container.c[count.index % var.n]
  to    = container.c[(count.index + 1) % var.n]
  tcp   = 80
}
