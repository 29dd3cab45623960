lab { name = "sdn" }
network "lan" { cidr = "192.168.50.0/24" }
host "hv" {
  count   = 3
  network = network.lan
}
# Two tenants with the same address plan on the same hypervisors.
segment "tenant-a" {
  vni   = 100
  cidr  = "10.100.0.0/24"
  hosts = [host.hv[0], host.hv[1]]
}
segment "tenant-b" {
  vni   = 200
  cidr  = "10.100.0.0/24"
  hosts = host.hv
  port  = 4790
}
container "a" {
  count   = 2
  host    = host.hv[count.index]
  segment = segment.tenant-a
}
container "b" {
  count   = 3
  host    = host.hv[count.index]
  segment = segment.tenant-b
}
container "b-fixed" {
  host    = host.hv[2]
  segment = segment.tenant-b
  address = "10.100.0.200"
}
bridge "br" {
  host = host.hv[0]
  cidr = "172.17.0.0/16"
}
container "plain" {
  host   = host.hv[0]
  bridge = bridge.br
}
check "tenant-a" {
  from = container.a[0]
  to   = container.a[1]
  ping = true
}
check "isolated" {
  from   = container.a[0]
  to     = container.b[1]
  ping   = true
  expect = "blocked"
}
output "segments" {
  value = {
    a       = [segment.tenant-a.id, segment.tenant-a.name, segment.tenant-a.cidr, tostring(segment.tenant-a.vni), tostring(segment.tenant-a.port)]
    b_hosts = [for h in segment.tenant-b.hosts : h.name]
    addrs   = concat(container.a[*].address, container.b[*].address)
    seg     = container.a[0].segment.id
    bridge  = container.a[0].bridge == null
  }
}
