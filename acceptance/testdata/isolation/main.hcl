# Test lab of acceptance/isolation_test.go: two containers whose processes
# write their PID to the same path, each in its own private dir, and read
# a file labnet writes for them. Only paths under /run: a netns host shares
# the machine's filesystem but for its own /run, and a private dir the
# host lacks is made there as its mount point.

lab {
  name = "isolation"
}

variable "greeting" {
  type    = string
  default = "one"
}

variable "b_dirs" {
  type    = list(string)
  default = ["/var/run/demo", "/run/democonf"]
}

network "lan" {
  cidr = "192.168.234.0/24"
}

host "h" {
  network = network.lan
}

bridge "br" {
  host = host.h
  cidr = "10.80.0.0/16"
}

container "a" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/var/run/demo", "/run/democonf"]
  file "/run/democonf/greeting" {
    content = var.greeting
    mode    = "0640"
  }
}

container "b" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = var.b_dirs
  file "/run/democonf/greeting" {
    content = "b"
  }
}

# Each writes its PID to /var/run/demo/pid and stays (exec keeps the PID).
process "a" {
  on      = container.a
  command = ["sh", "-c", "echo $$ >/var/run/demo/pid && exec sleep 600"]
}

process "b" {
  on      = container.b
  command = ["sh", "-c", "echo $$ >/var/run/demo/pid && exec sleep 600"]
}
