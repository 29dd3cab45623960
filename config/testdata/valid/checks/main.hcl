lab { name = "checks" }

network "lan" { cidr = "192.168.50.0/24" }

host "a" { network = network.lan }

host "b" {
  network = network.lan
  address = "192.168.50.5"
}

host "c" { network = network.lan }

bridge "br" {
  host = host.a
  cidr = "172.20.0.0/24"
}

container "srv" {
  host    = host.a
  bridge  = bridge.br
  address = "172.20.0.2"
  port {
    host_port = 5353
    port      = 53
    protocol  = "udp"
  }
}

container "cli" {
  host   = host.a
  bridge = bridge.br
}

check "ping" {
  from = host.a
  to   = host.c
  ping = true
}

check "ping_addr" {
  from    = container.cli
  ping    = true
  address = "8.8.8.8"
  expect  = "blocked"
  timeout = "500ms"
}

check "udp" {
  from    = host.c
  to      = container.srv
  udp     = 53
  address = host.a.address
}

check "exec" {
  from    = container.cli
  exec    = "curl -fsS http://${container.srv.address}/"
  timeout = "5m"
}

check "tcp_port" {
  from    = host.b
  to      = host.a
  tcp     = 22
  address = "192.168.50.10:2222"
  source  = host.b.address
  expect  = "reach"
}
