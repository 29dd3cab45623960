# Containers with private dirs and files: two routers that each keep their
# own /etc/frr and /var/run/frr, and one container with neither.
lab { name = "iso" }
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
bridge "br" {
  host = host.h
  cidr = "172.17.0.0/16"
}
container "r" {
  count        = 2
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/frr", "/var/run/frr"]
  file "/etc/frr/frr.conf" {
    content = "hostname r${count.index}\n"
    mode    = "0640"
  }
  file "/etc/frr/daemons" { source = "frr/daemons" }
}
container "plain" {
  host   = host.h
  bridge = bridge.br
}
process "zebra" {
  count   = 2
  on      = container.r[count.index]
  command = ["sleep", "600"]
}
process "plain" {
  on      = container.plain
  command = ["sleep", "600"]
}
