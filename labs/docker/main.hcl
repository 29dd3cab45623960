# The Docker model (stage 3 of the source document).
#
#   host.node[0] 192.168.50.11            host.node[1] 192.168.50.12
#   +-----------------------------+       +-----------------------------+
#   | docker0 172.17.0.1/16 (NAT) |       | docker0 172.17.0.1/16 (NAT) |
#   |   web    172.17.0.2 :80     |       |   web    172.17.0.2 :80     |
#   |   client 172.17.0.3         |       |   client 172.17.0.3         |
#   |   host :8080 -> web:80      |       |   host :8080 -> web:80      |
#   +-------------+---------------+       +--------------+--------------+
#                 |        LAN 192.168.50.0/24           |
#                 +--------------------------------------+
#
# Each host runs a bridge, docker0, that hands its containers private
# addresses. Both hosts use the SAME private range, so the containers on
# the two hosts have the same addresses: a container address means nothing
# off its own host. Containers on one host talk by container address;
# across hosts the only way in is a port the host publishes (8080 -> 80),
# and the way out is masquerade (the far end sees the host's address).
#
# The containers run from an image, images/busybox.tar, which `make images`
# builds offline from Debian's busybox-static (no registry): busybox's httpd
# in web, a shell in client.
#
#   labnet apply -var provider=lima -var lima_template=/path/template.yaml
#                                        # the same lab on two Lima VMs

lab {
  name = "docker"
}

variable "hosts" {
  type        = number
  default     = 2
  description = "How many hosts sit on the LAN."
}

variable "published_port" {
  type        = number
  default     = 8080
  description = "The host port that forwards to port 80 of each web container."
}

variable "image" {
  type        = string
  default     = "docker-archive:images/busybox.tar"
  description = "The image the containers run (make images builds this one); docker-archive:PATH or oci-archive:PATH, relative to the lab."
}

variable "provider" {
  type        = string
  default     = "netns"
  description = "Where the hosts come from: netns (this machine), ssh (existing machines at the hosts' addresses), lima (VMs)."
}

variable "lima_template" {
  type        = string
  default     = "template://_images/debian-12"
  description = "The Lima template of the VMs; used only with provider = \"lima\" (e.g. the offline template of shared/lima, an absolute path). The default is Lima's Debian 12 image (downloaded) without template://debian-12's mount of the home directory."
}

network "lan" {
  cidr = "192.168.50.0/24"
}

host "node" {
  count    = var.hosts
  network  = network.lan
  provider = var.provider
  lima {
    template = var.lima_template # used only on Lima
    cpus     = 1
    memory   = "1GiB"
  }
}

bridge "docker0" {
  count      = var.hosts
  host       = host.node[count.index]
  cidr       = "172.17.0.0/16"
  masquerade = true
}

# The server container: busybox's httpd serves /www on port 8000 (so the
# checks can listen on 80); its port 80 is published on the host's port 8080.
container "web" {
  count        = var.hosts
  host         = host.node[count.index]
  bridge       = bridge.docker0[count.index]
  image        = var.image
  command      = ["httpd", "-f", "-p", "8000", "-h", "/www"]
  private_dirs = ["/www"]
  file "/www/index.html" {
    content = "hello from web ${count.index}\n"
  }
  port {
    host_port = var.published_port
    port      = 80
  }
}

container "client" {
  count   = var.hosts
  host    = host.node[count.index]
  bridge  = bridge.docker0[count.index]
  image   = var.image
  command = ["sleep", "1000000000"]
}

# Same host: container to container by container address; the server sees
# the client container's own address.
check "same-host-by-container-ip" {
  from   = container.client[0]
  to     = container.web[0]
  tcp    = 80
  source = container.client[0].address
}

# The web container's httpd serves its page on its container address.
check "web-process-serves" {
  from          = container.client[0]
  exec          = "python3 -c 'import urllib.request; print(urllib.request.urlopen(\"http://${container.web[0].address}:8000/\", timeout=3).read().decode())'"
  expect_output = "hello from web 0"
  # The server may still be starting right after apply: try for a while.
  within = "15s"
}

# Another host cannot reach a container by its container address: on host 1
# that address is host 1's own container, so host 2's web hears nothing.
check "other-host-container-ip-blocked" {
  from    = host.node[0]
  to      = container.web[1]
  tcp     = 80
  address = container.web[1].address
  expect  = "blocked"
  timeout = "2s"
}

# Across hosts through the published port: host-2-IP:8080 -> web:80. The
# container sees host 1's address (DNAT only, no source NAT).
check "published-port" {
  from    = host.node[0]
  to      = container.web[1]
  tcp     = 80
  address = "${host.node[1].address}:${var.published_port}"
  source  = host.node[0].address
}

# A container reaches another host through masquerade: host 2 sees host 1's
# address, not the container's.
check "masquerade-out" {
  from   = container.client[0]
  to     = host.node[1]
  tcp    = 9000
  source = host.node[0].address
}

output "hosts" {
  value = host.node[*].address
}

output "web" {
  value = { for i, c in container.web : c.id => "${host.node[i].address}:${var.published_port} -> ${c.address}:80" }
}
