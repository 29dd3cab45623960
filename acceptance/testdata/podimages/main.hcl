# A pod of two containers from one busybox image (TestPodImages builds
# images/busybox.tar from the machine's busybox-static): httpd in one, a
# shell in the other, sharing the pod's network and UTS namespaces.
lab {
  name = "podimages"
}
network "lan" { cidr = "192.168.73.0/24" }
host "node" {
  count   = 2
  network = network.lan
}
pod_network "cluster" { cidr = "10.246.0.0/16" }
pod "web" {
  host    = host.node[0]
  network = pod_network.cluster
  container "httpd" {
    image        = "docker-archive:images/busybox.tar"
    command      = ["httpd", "-f", "-p", "8080", "-h", "/www"]
    private_dirs = ["/www"]
    file "/www/index.html" { content = "hello from the pod\n" }
  }
  container "shell" {
    image   = "docker-archive:images/busybox.tar"
    command = ["sleep", "1000000"]
  }
}
# From the other node to the pod's address: the httpd container serves
# there (busybox's wget, the machine's, in host.node[1]'s namespace).
check "other-node-to-pod" {
  from          = host.node[1]
  exec          = "busybox wget -qO- http://${pod.web.address}:8080/"
  expect_output = "hello from the pod"
  within        = "10s"
}
# And a listener in the pod's namespace hears the other node's address.
check "other-node-tcp" {
  from   = host.node[1]
  to     = pod.web
  tcp    = 9000
  source = host.node[1].address
}
