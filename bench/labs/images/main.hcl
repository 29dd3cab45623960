# labnet's image-container benchmark lab (bench/run.sh images,
# acceptance/imagescale_test.go): one netns host, one /16 bridge, var.n
# containers run by runc from one busybox image, each serving HTTP with
# busybox httpd.
#
# images/busybox.tar is not kept in git: bench/run.sh and the test build it
# with labnet's own tooling (hack/mkimage, image.Build) from the machine's
# busybox-static. bench/run.sh copies this directory and renames the lab,
# as the acceptance tests do with labs/.

lab {
  name = "bench-images"
}

variable "n" {
  type    = number
  default = 0
}

# What each container runs (acceptance/imagescale_test.go gives one that
# exits at once).
variable "command" {
  type    = list(string)
  default = ["httpd", "-f", "-p", "80", "-h", "/"]
}

variable "lan_cidr" {
  type    = string
  default = "192.168.236.0/24"
}

variable "bridge_cidr" {
  type    = string
  default = "10.81.0.0/16"
}

network "lan" {
  cidr = var.lan_cidr
}

host "h" {
  network = network.lan
}

bridge "ibr" {
  host = host.h
  cidr = var.bridge_cidr
}

container "c" {
  count   = var.n
  host    = host.h
  bridge  = bridge.ibr
  image   = "docker-archive:images/busybox.tar"
  command = var.command
}
