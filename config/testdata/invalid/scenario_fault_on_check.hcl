# error: on must be a host, a container, a vm, a pod or a link, got check.c @ 23:13
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
container "r1" { host = host.h }
container "r2" { host = host.h }
link "x" {
  endpoint {
    node   = container.r1
    ifname = "eth1"
  }
  endpoint {
    node   = container.r2
    ifname = "eth1"
  }
}
check "c" {
  from = container.r1
  exec = "true"
}
scenario "s" {
  step {
    fault = "stop"
    on    = check.c
  }
}
