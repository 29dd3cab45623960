# error: from must be a host, a container, a vm or a pod, got network.lan @ 5:10
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
check "c" {
  from = network.lan
  to   = host.h
  ping = true
}
