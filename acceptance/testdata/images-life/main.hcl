# Image containers through their life (TestImageLifecycle builds
# images/busybox.tar from the machine's busybox-static): limits, exit
# codes, OOM kills, the supervisor, namespaces.
lab {
  name = "imagelife"
}
variable "memory" {
  type    = string
  default = "64MiB"
}
variable "greeting" {
  type    = string
  default = "hello from web"
}
variable "cpus" {
  type    = number
  default = 0.5
}
network "lan" { cidr = "192.168.72.0/24" }
host "node" { network = network.lan }
bridge "br" {
  host = host.node
  cidr = "172.29.0.0/16"
}
# Notes what it sees as it starts, then becomes the web server (pid 1).
container "web" {
  host         = host.node
  bridge       = bridge.br
  image        = "docker-archive:images/busybox.tar"
  command      = ["sh", "/lab/boot.sh"]
  memory       = var.memory
  cpus         = var.cpus
  private_dirs = ["/www", "/lab"]
  file "/www/index.html" { content = "${var.greeting}\n" }
  file "/lab/boot.sh" {
    content = <<-EOT
      ip -o -4 addr show dev eth0 >/lab/boot-addr
      hostname >/lab/boot-hostname
      exec httpd -f -p 80 -h /www
    EOT
  }
}
# Exits with code 3 when /dev/shm/stop appears (a tmpfs of each run: a
# restart does not see it).
container "exiter" {
  host         = host.node
  bridge       = bridge.br
  image        = "docker-archive:images/busybox.tar"
  command      = ["sh", "/lab/exit.sh"]
  private_dirs = ["/lab"]
  file "/lab/exit.sh" {
    content = <<-EOT
      echo waiting
      while [ ! -e /dev/shm/stop ]; do sleep 0.1; done
      echo exiting
      exit 3
    EOT
  }
}
# When /dev/shm/go appears, a child needs 64MiB of its 16MiB: the kernel kills
# it, and the shell exits with its status (137).
container "hog" {
  host         = host.node
  bridge       = bridge.br
  image        = "docker-archive:images/busybox.tar"
  command      = ["sh", "/lab/hog.sh"]
  memory       = "16MiB"
  private_dirs = ["/lab"]
  file "/lab/hog.sh" {
    content = <<-EOT
      while [ ! -e /dev/shm/go ]; do sleep 0.1; done
      dd if=/dev/zero of=/dev/null bs=64M count=1
      exit $?
    EOT
  }
}
# A tenth of a CPU: a busy loop in it is throttled.
container "client" {
  host    = host.node
  bridge  = bridge.br
  image   = "docker-archive:images/busybox.tar"
  command = ["sleep", "1000000"]
  cpus    = 0.1
}
check "http" {
  from          = container.client
  exec          = "busybox wget -qO- http://${container.web.address}/"
  expect_output = var.greeting
}
