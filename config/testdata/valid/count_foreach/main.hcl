lab { name = "fleet" }

network "net" {
  for_each = {
    blue  = "10.1.0.0/24"
    green = "10.2.0.0/24"
  }
  cidr = each.value
}

host "edge" {
  for_each = toset(["a", "b_2"])
  network  = network.net["blue"]
}

host "worker" {
  count   = 3
  network = network.net.green
  address = count.index == 1 ? "10.2.0.100" : null
}

bridge "br" {
  for_each = host.edge
  host     = each.value
  cidr     = "172.30.0.0/24"
}

container "app" {
  for_each = {
    one = "a"
    two = "b_2"
  }
  host   = host.edge[each.value]
  bridge = bridge.br[each.value]
  port {
    host_port = 9000
    port      = 9000
    protocol  = "udp"
  }
}

process "agent" {
  count   = length(host.worker)
  on      = host.worker[count.index]
  command = ["agent", "--id", host.worker[count.index].name]
}

check "workers" {
  count = 2
  from  = host.worker[count.index]
  to    = host.worker[count.index + 1]
  ping  = true
}

output "edges" { value = { for k, h in host.edge : k => h.address } }
