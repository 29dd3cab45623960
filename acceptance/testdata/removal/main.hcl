# Test lab of acceptance/removal_test.go: containers that go with nothing in
# them (removed while their host is read) and containers whose process
# must stop first (removed in the usual stages).

lab {
  name = "removal"
}

variable "n" {
  type    = number
  default = 0
}

variable "s" {
  type    = number
  default = 0
}

network "lan" {
  cidr = "192.168.232.0/24"
}

host "h" {
  network = network.lan
}

bridge "br" {
  host = host.h
  cidr = "10.78.0.0/16"
}

container "c" {
  count  = var.n
  host   = host.h
  bridge = bridge.br
}

# A bridge of their own: the c's addresses do not move when these go.
bridge "bs" {
  host = host.h
  cidr = "10.79.0.0/16"
}

container "s" {
  count  = var.s
  host   = host.h
  bridge = bridge.bs
}

process "sleeper" {
  count   = var.s
  on      = container.s[count.index]
  command = ["sleep", "600"]
}
