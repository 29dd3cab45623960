# Containers run by runc from images in archives (images/ holds a tiny
# docker-archive and oci-archive built with image.Build).
network "lan" { cidr = "192.168.50.0/24" }
host "node" { network = network.lan }
bridge "docker0" {
  host = host.node
  cidr = "172.17.0.0/16"
}

container "app" {
  host         = host.node
  bridge       = bridge.docker0
  image        = "docker-archive:images/tiny.tar"
  command      = ["--serve"]
  env          = { MODE = "test" }
  workdir      = "/srv"
  cap_add      = ["NET_ADMIN"]
  private_dirs = ["/etc/app"]
  memory       = "1.5GiB"
  cpus         = 0.25
  file "/etc/app/app.conf" { content = "port 80\n" }
  mount {
    source    = "/srv/shared"
    target    = "/data"
    read_only = true
  }
}

container "tool" {
  host       = host.node
  image      = "oci-archive:images/tiny-oci.tar"
  entrypoint = ["/bin/app", "tool"]
  privileged = true
}

# A pod of image containers: they share the pod's network and UTS
# namespaces; a command container beside them is a process.
pod_network "cluster" { cidr = "10.244.0.0/16" }
pod "web" {
  host    = host.node
  network = pod_network.cluster
  container "app" {
    image        = "docker-archive:images/tiny.tar"
    command      = ["--serve"]
    env          = { MODE = "pod" }
    cap_add      = ["NET_ADMIN"]
    private_dirs = ["/etc/app"]
    file "/etc/app/app.conf" { content = "port ${pod_network.cluster.port}\n" }
    mount {
      source = "/var/log/web"
      target = "/logs"
    }
  }
  container "side" {
    image      = "oci-archive:images/tiny-oci.tar"
    entrypoint = ["/bin/app", "side"]
    privileged = true
  }
  container "probe" {
    command = ["sleep", "1000"]
  }
}

# A process beside an image's own, in the container (runc exec).
process "sidecar" {
  on      = container.app
  command = ["sleep", "1000"]
}
