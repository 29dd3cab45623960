# Routing: four real routers (FRR) in a square, two paths between the ends.
#
#                        10.0.12.0/30
#   host.node[0]  c1 ===== r1 ============= r2          === veth pair, one host
#                .2   .1   eth1 .1     .2 eth1          |   VXLAN across the
#               10.0.1.0/24 eth2 .2     .1 eth2             hosts' LAN, MTU 1450
#                           |                |
#            10.0.13.0/30   |                |   10.0.24.0/30
#                           |                |
#                          eth1 .1      .2 eth1
#   host.node[1]           r3 ============= r4 ===== c4
#                          eth2 .2     .1 eth2   .1   .2
#                        10.0.34.0/30         10.0.4.0/24 (r4 eth3)
#
# Each router is a container with no bridge (lo and its links only), with
# mount and UTS namespaces of its own: /etc/frr, /var/run/frr and
# /var/tmp/frr are empty tmpfs that only it sees, its configuration is
# written there before its processes start, and it runs its own zebra and
# ospfd (or bgpd) from the host's one FRR installation. The end hosts c1
# and c4 run no routing: their default route points at their router over
# their link.
#
# c1 reaches c4 over r1-r2-r4 and over r1-r3-r4; both paths cost the same,
# so r1 and r4 keep two next hops (ECMP). Nothing is NATed: c4 sees c1's own
# address. `labnet exec 'container.router["r1"]' -- vtysh` opens r1's CLI.
#
# Why OSPF: it is the protocol of a network whose routers share one view of
# the topology; it needs no per-neighbour configuration (a point-to-point
# link comes up as soon as both ends hear each other), and FRR's ospfd is
# fast and small here. Measured with FRR 8.4.4 on a 2-core machine, the
# lab's own configuration and command lines started by hand (hello 1 s,
# dead 4 s, the LSA and SPF timers of frr/ospfd.conf.tftpl):
#   - daemons started to two next hops on r1: 1.2-1.4 s;
#   - a link taken down: one next hop within 0.1 s on r1 and 0.2 s on r4
#     (about one packet lost at 100 packets/s); back up: two in 0.1-1.1 s;
#   - a link that silently drops everything: 3-4 s (the dead interval);
#   - zebra + ospfd: ~24 MiB RSS, ~13 MiB PSS per router.
#
#   labnet apply -var protocol=bgp   # the same square in eBGP: each router its
#                                    # own AS, a session per link to the
#                                    # neighbour's address, maximum-paths 2
#                                    # and as-path multipath-relax: two next
#                                    # hops too, after ~5 s; a link back up
#                                    # takes ~4 s; ~34 MiB RSS per router
#
# Every daemon is a process of its own in the foreground, as labnet runs
# any process: not watchfrr, which starts the daemons itself, daemonized,
# out of labnet's sight, from /etc/frr/daemons.

lab {
  name = "routing"
}

variable "protocol" {
  type        = string
  default     = "ospf"
  description = "The routing protocol: ospf (area 0, point-to-point links) or bgp (eBGP, an AS per router, a session per link)."
}

variable "provider" {
  type        = string
  default     = "netns"
  description = "Where the hosts come from: netns (this machine), ssh (existing machines at the hosts' addresses), lima (VMs)."
}

variable "lima_template" {
  type        = string
  default     = "template://_images/debian-12"
  description = "The Lima template of the VMs; used only with provider = \"lima\" (e.g. the offline template of shared/lima, an absolute path). The default is Lima's Debian 12 image (downloaded) without template://debian-12's mount of the home directory."
}

# The routers are FRR's daemons: hosts need the frr package (Debian 12: FRR
# 8.4). netns hosts use this machine's; a Lima VM installs it at boot.
# FRR's own service is not needed, and stays off on a Lima VM.
variable "lima_provision" {
  type        = string
  default     = "command -v vtysh >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y frr && systemctl disable --now frr; }"
  description = "The script a Lima VM runs as root at every boot; used only with provider = \"lima\"."
}

network "lan" {
  cidr = "192.168.100.0/24"
}

host "node" {
  count    = 2
  network  = network.lan
  provider = var.provider
  lima {
    template  = var.lima_template # used only on Lima
    cpus      = 1
    memory    = "1GiB"
    provision = var.lima_provision
  }
}

locals {
  # The routers: the host each runs on, its router ID, its AS (for eBGP).
  routers = {
    r1 = { host = 0, id = "10.255.0.1", asn = 65001 }
    r2 = { host = 0, id = "10.255.0.2", asn = 65002 }
    r3 = { host = 1, id = "10.255.0.3", asn = 65003 }
    r4 = { host = 1, id = "10.255.0.4", asn = 65004 }
  }

  # The square: each link a /30 between two [router, interface]; the first
  # end takes the subnet's first address, the second end the second.
  core = {
    "r1-r2" = { a = ["r1", "eth1"], b = ["r2", "eth1"], net = "10.0.12.0/30" }
    "r2-r4" = { a = ["r2", "eth2"], b = ["r4", "eth1"], net = "10.0.24.0/30" }
    "r4-r3" = { a = ["r4", "eth2"], b = ["r3", "eth2"], net = "10.0.34.0/30" }
    "r3-r1" = { a = ["r3", "eth1"], b = ["r1", "eth2"], net = "10.0.13.0/30" }
  }

  # The end hosts: a /24 behind r1 and one behind r4; the router holds the
  # first address (the end's gateway), the end host the second.
  ends = {
    c1 = { host = 0, router = "r1", ifname = "eth3", net = "10.0.1.0/24" }
    c4 = { host = 1, router = "r4", ifname = "eth3", net = "10.0.4.0/24" }
  }

  # Per router, read off the tables: its core interfaces (an OSPF
  # point-to-point link or a BGP session each), and its end networks.
  core_ifs = { for r in keys(local.routers) : r => sort(flatten([
    for l in values(local.core) : [for e in [l.a, l.b] : e[1] if e[0] == r]
  ])) }
  stubs = { for r in keys(local.routers) : r => [for e in values(local.ends) : e if e.router == r] }
  # Per router, the addresses of its neighbours on the square (BGP peers).
  peers = { for r in keys(local.routers) : r => sort(flatten([
    for l in values(local.core) : concat(
      l.a[0] == r ? [cidrhost(l.net, 2)] : [],
      l.b[0] == r ? [cidrhost(l.net, 1)] : [],
    )
  ])) }

  # Each router's FRR configuration, one file per daemon (a daemon started
  # with -f reads only its own; an integrated frr.conf needs `vtysh -b`
  # after the daemons are up, a second step labnet has no place for). Both
  # ospfd.conf and bgpd.conf are written; var.protocol picks the daemon.
  frr = { for r, v in local.routers : r => {
    zebra = templatefile("frr/zebra.conf.tftpl", { name = r })
    ospfd = templatefile("frr/ospfd.conf.tftpl", {
      name  = r
      id    = v.id
      core  = local.core_ifs[r]
      stubs = [for e in local.stubs[r] : e.ifname]
    })
    bgpd = templatefile("frr/bgpd.conf.tftpl", {
      name      = r
      id        = v.id
      asn       = v.asn
      peers     = local.peers[r]
      stub_nets = [for e in local.stubs[r] : e.net]
    })
  } }

  daemon = { ospf = "ospfd", bgp = "bgpd" }[var.protocol] # any other protocol is an error here
}

# A router: lo and its links only. Its FRR directories are empty tmpfs that
# only it sees: /etc/frr (configuration), /var/run/frr (pid files, the vty
# sockets vtysh talks to, zebra's zserv.api) and /var/tmp/frr (each daemon's
# DAEMON.PID directory, left behind on the host when a daemon dies). The
# configuration is written there before its processes start. The files are
# root's: mode 0644 lets the daemons, which run as the user frr, read them
# (with 0640 they would start without a configuration, saying so only in
# their log).
container "router" {
  for_each     = local.routers
  host         = host.node[each.value.host]
  private_dirs = ["/etc/frr", "/var/run/frr", "/var/tmp/frr"]

  file "/etc/frr/zebra.conf" {
    content = local.frr[each.key].zebra
    mode    = "0644"
  }
  file "/etc/frr/ospfd.conf" {
    content = local.frr[each.key].ospfd
    mode    = "0644"
  }
  file "/etc/frr/bgpd.conf" {
    content = local.frr[each.key].bgpd
    mode    = "0644"
  }
  file "/etc/frr/vtysh.conf" {
    source = "frr/vtysh.conf"
    mode   = "0644"
  }
}

# An end host: no bridge, no FRR; its default route goes over its link.
container "end" {
  for_each = local.ends
  host     = host.node[each.value.host]
}

link "core" {
  for_each = local.core
  endpoint {
    node    = container.router[each.value.a[0]]
    ifname  = each.value.a[1]
    address = "${cidrhost(each.value.net, 1)}/30"
  }
  endpoint {
    node    = container.router[each.value.b[0]]
    ifname  = each.value.b[1]
    address = "${cidrhost(each.value.net, 2)}/30"
  }
}

link "end" {
  for_each = local.ends
  endpoint {
    node    = container.router[each.value.router]
    ifname  = each.value.ifname
    address = "${cidrhost(each.value.net, 1)}/24"
  }
  endpoint {
    node    = container.end[each.key]
    ifname  = "eth1"
    address = "${cidrhost(each.value.net, 2)}/24"
    gateway = cidrhost(each.value.net, 1)
  }
}

# zebra first. The private /var/run/frr is root's, and the daemons run as
# the user frr: they make their pid files and vty sockets there, so it is
# given to frr before zebra starts. -P 0: no vty on TCP (vtysh uses the unix
# sockets); --log stdout: into the process's log on the host.
process "zebra" {
  for_each = local.routers
  on       = container.router[each.key]
  command  = ["sh", "-c", "chown frr:frr /var/run/frr && exec /usr/lib/frr/zebra -P 0 -f /etc/frr/zebra.conf --log stdout"]
}

# ospfd (or bgpd) waits for zebra's socket: a daemon whose first
# connection to zebra fails tries again only after 10 s (every 60 s after
# the third failure), which would add 10 s to every start.
# A zebra that is restarted under a running ospfd gets no routes back from
# it (FRR 8.4): after zebra, restart this one too
# (labnet apply -replace='process.routing["r1"]').
process "routing" {
  for_each = local.routers
  on       = container.router[each.key]
  command = ["sh", "-c", join(" ", [
    "until [ -S /var/run/frr/zserv.api ]; do sleep 0.1; done;",
    "exec /usr/lib/frr/${local.daemon} -P 0 -f /etc/frr/${local.daemon}.conf --log stdout",
  ])]
}

locals {
  # What vtysh shows for a neighbour that is up, in JSON, per protocol. OSPF's
  # "state" reads "Full\/-" on a point-to-point link ("Full\/DR", ... on a
  # broadcast one), so the match is on "converged".
  adjacency = {
    ospf = { show = "show ip ospf neighbor json", up = "\"converged\":\"Full\"" }
    bgp  = { show = "show bgp ipv4 unicast summary json", up = "\"state\":\"Established\"" }
  }

  c1 = cidrhost(local.ends.c1.net, 2)
  c4 = cidrhost(local.ends.c4.net, 2)
  # r1's neighbours on the square: r2 on r1-r2, r3 on r3-r1.
  r1_via_r2 = cidrhost(local.core["r1-r2"].net, 2)
  r1_via_r3 = cidrhost(local.core["r3-r1"].net, 1)
}

# Every router has all its neighbours up: two each, Full (OSPF) or
# Established (BGP).
check "adjacencies" {
  for_each      = local.routers
  from          = container.router[each.key]
  exec          = "vtysh -c '${local.adjacency[var.protocol].show}'" # in the router's own mount namespace, where its daemons' sockets are
  expect_output = format("(?s)(%s.*){%d}", local.adjacency[var.protocol].up, length(local.core_ifs[each.key]))
  within        = "60s"
}

# r1 reaches c4's network over both r2 and r3 ...
check "two-paths" {
  from     = container.router["r1"]
  route    = local.ends.c4.net
  nexthops = 2
  via      = [local.r1_via_r2, local.r1_via_r3]
  within   = "60s"
}

# ... and r4 reaches c1's over both r2 and r3.
check "two-paths-back" {
  from     = container.router["r4"]
  route    = local.ends.c1.net
  nexthops = 2
  within   = "60s"
}

check "ping" {
  from    = container.end["c1"]
  address = local.c4 # an end host has no eth0: checks to it name its address
  ping    = true
  within  = "60s"
}

# c1 reaches c4 across both hosts and three routers, and c4 sees c1's own
# address: routed, not NATed.
check "end-to-end" {
  from    = container.end["c1"]
  to      = container.end["c4"]
  tcp     = 80
  address = local.c4
  source  = local.c1
  within  = "60s"
}

# Take r1-r2 down: r1 keeps the path over r3, and traffic still arrives;
# bring it back: two paths again. The checks below run only in it.
check "one-path" {
  from     = container.router["r1"]
  route    = local.ends.c4.net
  nexthops = 1
  via      = [local.r1_via_r3]
  within   = "10s"
}

check "end-to-end-around" {
  from    = container.end["c1"]
  to      = container.end["c4"]
  tcp     = 81
  address = local.c4
  source  = local.c1
  within  = "10s"
}

check "two-paths-again" {
  from     = container.router["r1"]
  route    = local.ends.c4.net
  nexthops = 2
  within   = "30s"
}

scenario "failover" {
  step {
    fault = "down"
    on    = link.core["r1-r2"]
  }
  step {
    name   = "one path left, traffic still arrives"
    checks = [check.one-path, check.end-to-end-around]
  }
  step {
    fault = "up"
    on    = link.core["r1-r2"]
  }
  step {
    name   = "both paths again"
    checks = [check.two-paths-again]
  }
}

output "routers" {
  value = { for r, v in local.routers : r => "${v.id} (AS ${v.asn}) on ${container.router[r].host.name}, ${local.daemon}" }
}
