# Point-to-point links: a veth pair on one host, a VXLAN tunnel across
# hosts, and a link to a host itself. Containers without a bridge have
# only their links; "a" and "b" take their default route over one.
#
#   host.h[0]                                   host.h[1]
#   a 10.0.1.2 --veth-- 10.0.1.1 r 10.0.2.1 ==vxlan== 10.0.2.2 b
#   web (eth0 on docker0) eth1 10.0.3.2 --veth-- lk0 10.0.3.1 host.h[0]
lab {
  name = "links"
}

network "lan" {
  cidr = "192.168.94.0/24"
}

host "h" {
  count   = 2
  network = network.lan
}

bridge "docker0" {
  host = host.h[0]
  cidr = "172.21.0.0/24"
}

container "web" {
  host   = host.h[0]
  bridge = bridge.docker0
}

container "a" {
  host = host.h[0]
}

container "r" {
  host = host.h[0]
}

container "b" {
  host = host.h[1]
}

link "a-r" {
  endpoint {
    node    = container.a
    ifname  = "eth1"
    address = "10.0.1.2/24"
    gateway = "10.0.1.1"
  }
  endpoint {
    node    = container.r
    ifname  = "eth1"
    address = "10.0.1.1/24"
  }
  rate = "200mbit" # each end's egress
}

link "r-b" {
  endpoint {
    node    = container.r
    ifname  = "eth2"
    address = ["10.0.2.1/24", "10.0.20.1/24"]
  }
  endpoint {
    node    = container.b
    ifname  = "eth1"
    address = ["10.0.2.2/24", "10.0.20.2/24"]
    gateway = "10.0.2.1"
  }
}

link "web-host" {
  endpoint {
    node    = container.web
    ifname  = "eth1"
    address = "10.0.3.2/30"
  }
  endpoint {
    node    = host.h[0]
    ifname  = "lk0"
    address = "10.0.3.1/30"
  }
}

# r routes between its links.
process "forward" {
  on      = container.r
  command = ["sh", "-c", "sysctl -qw net.ipv4.ip_forward=1 && exec sleep infinity"]
}

# Across the router and the tunnel, with the source kept (no NAT).
check "a-to-b" {
  from    = container.a
  to      = container.b
  address = "10.0.2.2"
  tcp     = 7000
  source  = "10.0.1.2"
  within  = "10s"
}

# Several addresses on one end: r reaches b's second one directly.
check "b-second-address" {
  from    = container.r
  address = "10.0.20.2"
  ping    = true
}

# Full-size frames cross the tunnel: 1450 bytes of MTU, no fragmentation.
check "tunnel-mtu" {
  from = container.r
  exec = "ping -c 1 -W 2 -M do -s 1422 10.0.2.2"
}

check "tunnel-too-big" {
  from   = container.r
  exec   = "ping -c 1 -W 2 -M do -s 1423 10.0.2.2"
  expect = "blocked"
}

check "host-link" {
  from    = container.web
  address = "10.0.3.1"
  ping    = true
}

check "no-route-off-link" {
  from    = container.web
  address = "10.0.1.2"
  ping    = true
  expect  = "blocked"
  timeout = "2s"
}

# A scenario: the tunnel goes down and a cannot reach b; it comes back and
# a reaches b again within 10 s. Checks a scenario names run only in it.
check "b-cut" {
  from    = container.a
  address = "10.0.2.2"
  ping    = true
  expect  = "blocked"
  timeout = "2s"
}

check "b-back" {
  from    = container.a
  to      = container.b
  address = "10.0.2.2"
  tcp     = 7001
  within  = "10s"
}

scenario "failover" {
  step {
    fault = "down"
    on    = link.r-b
  }
  step {
    name   = "cut off"
    checks = [check.b-cut]
  }
  step {
    fault = "up"
    on    = link.r-b
  }
  step {
    checks = [check.b-back]
  }
}
