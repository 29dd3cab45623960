# labnet's routing benchmark (bench/run.sh): var.n x var.n FRR routers in
# a grid on one netns host, each joined to its neighbours by a link (a veth
# pair), OSPF area 0 on every link. The check "corner" waits until the
# first corner routes to the far corner's network over two next hops (right
# and down): the time the grid took to converge.
#
#   g0x0 -eth1- g0x1 -eth1- g0x2 ...     eth1 east, eth2 west,
#    |eth3                               eth3 south, eth4 north
#   g1x0 ...
#
# bench/run.sh copies this directory and renames the lab, as the
# acceptance tests do with labs/.

lab {
  name = "bench-grid"
}

variable "n" {
  type    = number
  default = 10
}

network "lan" {
  cidr = "192.168.232.0/24"
}

host "h" {
  network = network.lan
}

locals {
  n = var.n
  routers = { for i in range(local.n * local.n) : format("g%dx%d", floor(i / local.n), i % local.n) => {
    row = floor(i / local.n)
    col = i % local.n
    id  = format("10.255.%d.%d", floor(i / local.n), i % local.n)
  } }
  # Each link a /30 of 10.64.0.0/16: the horizontal ones first, then the
  # vertical ones.
  east = { for i in range(local.n * (local.n - 1)) : format("h%dx%d", floor(i / (local.n - 1)), i % (local.n - 1)) => {
    a   = format("g%dx%d", floor(i / (local.n - 1)), i % (local.n - 1))
    b   = format("g%dx%d", floor(i / (local.n - 1)), i % (local.n - 1) + 1)
    ifa = "eth1"
    ifb = "eth2"
    net = cidrsubnet("10.64.0.0/16", 14, i)
  } }
  south = { for i in range(local.n * (local.n - 1)) : format("v%dx%d", floor(i / local.n), i % local.n) => {
    a   = format("g%dx%d", floor(i / local.n), i % local.n)
    b   = format("g%dx%d", floor(i / local.n) + 1, i % local.n)
    ifa = "eth3"
    ifb = "eth4"
    net = cidrsubnet("10.64.0.0/16", 14, local.n * (local.n - 1) + i)
  } }
  links = merge(local.east, local.south)
  ifs = { for r in keys(local.routers) : r => sort(flatten([
    for l in values(local.links) : concat(l.a == r ? [l.ifa] : [], l.b == r ? [l.ifb] : [])
  ])) }
  far = format("g%dx%d", local.n - 1, local.n - 1)
  # The far corner's last link: its west one.
  far_net = local.east[format("h%dx%d", local.n - 1, local.n - 2)].net
}

container "router" {
  for_each     = local.routers
  host         = host.h
  private_dirs = ["/etc/frr", "/var/run/frr", "/var/tmp/frr"]
  file "/etc/frr/zebra.conf" {
    content = templatefile("frr/zebra.conf.tftpl", { name = each.key })
    mode    = "0644"
  }
  file "/etc/frr/ospfd.conf" {
    content = templatefile("frr/ospfd.conf.tftpl", { name = each.key, id = each.value.id, core = local.ifs[each.key] })
    mode    = "0644"
  }
}

link "grid" {
  for_each = local.links
  endpoint {
    node    = container.router[each.value.a]
    ifname  = each.value.ifa
    address = "${cidrhost(each.value.net, 1)}/30"
  }
  endpoint {
    node    = container.router[each.value.b]
    ifname  = each.value.ifb
    address = "${cidrhost(each.value.net, 2)}/30"
  }
}

process "zebra" {
  for_each = local.routers
  on       = container.router[each.key]
  command  = ["sh", "-c", "chown frr:frr /var/run/frr && exec /usr/lib/frr/zebra -P 0 -f /etc/frr/zebra.conf --log stdout"]
}

process "ospfd" {
  for_each = local.routers
  on       = container.router[each.key]
  command  = ["sh", "-c", "until [ -S /var/run/frr/zserv.api ]; do sleep 0.1; done; exec /usr/lib/frr/ospfd -P 0 -f /etc/frr/ospfd.conf --log stdout"]
}

check "corner" {
  from     = container.router["g0x0"]
  route    = local.far_net
  nexthops = 2
  within   = "5m"
}
