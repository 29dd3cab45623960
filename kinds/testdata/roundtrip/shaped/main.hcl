# What no other lab sets, for TestSpecRoundTrip: a container and a link with every
# shaping attribute and ports of both protocols.

lab {
  name = "shaped"
}

network "lan" {
  cidr = "192.168.78.0/24"
}

host "node" {
  network = network.lan
}

bridge "br0" {
  host = host.node
  cidr = "10.78.0.0/24"
}

container "c" {
  host   = host.node
  bridge = bridge.br0
  rate   = "1.5mbit"
  delay  = "20ms"
  loss   = "0.5%"
  port {
    host_port = 5353
    port      = 53
    protocol  = "udp"
  }
  port {
    host_port = 8080
    port      = 80
  }
}

container "r" {
  host = host.node
}

link "shaped" {
  endpoint {
    node    = container.r
    ifname  = "eth1"
    address = "10.9.0.1/30"
  }
  endpoint {
    node    = host.node
    ifname  = "lk0"
    address = "10.9.0.2/30"
  }
  delay = "5ms"
  loss  = "0.1%"
}
