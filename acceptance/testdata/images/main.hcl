# Two containers from one busybox image on one host (TestImageContainers
# builds images/busybox.tar from the machine's busybox-static).
lab {
  name = "images"
}
network "lan" { cidr = "192.168.71.0/24" }
host "node" { network = network.lan }
bridge "br" {
  host = host.node
  cidr = "172.28.0.0/16"
}
container "web" {
  host         = host.node
  bridge       = bridge.br
  image        = "docker-archive:images/busybox.tar"
  command      = ["httpd", "-f", "-p", "80", "-h", "/www"]
  private_dirs = ["/www"]
  file "/www/index.html" { content = "hello from an image\n" }
}
container "client" {
  host    = host.node
  bridge  = bridge.br
  image   = "docker-archive:images/busybox.tar"
  command = ["sleep", "1000000"]
}
check "http" {
  from          = container.client
  exec          = "busybox wget -qO- http://${container.web.address}/"
  expect_output = "hello from an image"
}
# A second process in the web container, beside the image's (runc exec):
# it serves the container's own /www on another port.
process "side" {
  on      = container.web
  command = ["httpd", "-f", "-p", "8081", "-h", "/www"]
}
check "side-http" {
  from          = container.client
  exec          = "busybox wget -qO- http://${container.web.address}:8081/"
  expect_output = "hello from an image"
}
