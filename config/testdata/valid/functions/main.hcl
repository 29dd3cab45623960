lab { name = "funcs" }

variable "base" {
  type    = string
  default = "10.20.0.0/16"
}

network "lan" { cidr = cidrsubnet(var.base, 8, 5) }

host "h" {
  count   = 2
  network = network.lan
  address = cidrhost(network.lan.cidr, 20 + count.index)
}

bridge "b" {
  count = 2
  host  = host.h[count.index]
  cidr  = cidrsubnet("172.16.0.0/12", 12, count.index)
  name  = format("br-%s", upper(substr("xyz", 0, 1)))
}

container "c" {
  count   = 2
  host    = host.h[count.index]
  bridge  = bridge.b[count.index]
  address = cidrhost(bridge.b[count.index].cidr, -2)
}

process "p" {
  on      = host.h[0]
  command = concat(split(" ", trimspace(file("cmd.txt"))), [lower("ARG")])
}

output "misc" {
  value = {
    netmask = cidrnetmask(network.lan.cidr)
    joined  = join(",", [for h in host.h : h.name])
    max     = max(3, 9, 4)
    json    = jsonencode({ a = 1 })
    regex   = regex("[0-9]+", "abc123")
    keys    = keys({ b = 1, a = 2 })
    flat    = flatten([[1], [2, 3]])
    len     = length("hello")
    merged  = merge({ a = 1 }, { b = 2 })
    title   = title("hello world")
    fl      = formatlist("%s!", ["a", "b"])
    tmpl    = templatefile("router.tftpl", { name = "r1", addrs = ["10.0.12.1/30", "10.0.13.1/30"] })
    gw      = network.lan.gateway
    brgw    = bridge.b[1].gateway
  }
}
