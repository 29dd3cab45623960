# Bare metal (stage 1 of the source document): processes on hosts, found by
# IP:port.
#
#   host.node[0] .11               host.node[1] .12            host.node[2] .13
#   etcd :2379 (the registry)      echo server on port 0       client
#   http server :8000              -> publishes "ip:port"      -> looks it up
#                                     as services/echo            and connects
#                         LAN 192.168.60.0/24
#
# Two processes on one host talk over 127.0.0.1 without touching the NIC;
# across hosts they use the host's address. A server may ask the kernel for
# any free port (port 0) and publish name -> ip:port in a registry, here a
# real etcd, where its peers find it.

lab {
  name = "bare-metal"
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

# The registry is a real etcd: hosts need etcd and etcdctl (Debian:
# etcd-server, etcd-client). netns hosts use this machine's; existing
# machines (provider = "ssh") must have them; a Lima VM installs them at
# boot with this script (Lima "system" provisioning, run as root).
variable "lima_provision" {
  type        = string
  default     = "command -v etcd >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y etcd-server etcd-client; }"
  description = "The script a Lima VM runs as root at every boot; used only with provider = \"lima\"."
}

network "lan" {
  cidr = "192.168.60.0/24"
}

host "node" {
  count    = 3
  network  = network.lan
  provider = var.provider
  lima {
    template  = var.lima_template # used only on Lima
    cpus      = 1
    memory    = "1GiB"
    provision = var.lima_provision
  }
}

locals {
  registry = "http://${host.node[0].address}:2379"
}

process "etcd" {
  on = host.node[0]
  command = ["etcd", "--name", "registry", "--data-dir", "/run/labnet-etcd",
    "--listen-client-urls", "http://0.0.0.0:2379", "--advertise-client-urls", local.registry,
    "--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
  "--initial-cluster", "registry=http://127.0.0.1:2380"]
}

process "http" {
  on      = host.node[0]
  command = ["python3", "-m", "http.server", "8000", "--bind", "0.0.0.0"]
}

# Binds port 0, publishes where it landed, answers each connection with a line.
process "echo" {
  on = host.node[1]
  command = ["python3", "-c", <<-EOT
    import socket, subprocess, time
    s = socket.socket()
    s.bind(("${host.node[1].address}", 0))
    s.listen(16)
    where = "%s:%d" % s.getsockname()
    for _ in range(300):
        if subprocess.call(["etcdctl", "--endpoints=${local.registry}", "put", "services/echo", where],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
            break
        time.sleep(0.2)
    while True:
        c, peer = s.accept()
        c.sendall(("echo at %s for %s\n" % (where, peer[0])).encode())
        c.close()
    EOT
  ]
}

check "loopback-on-one-host" {
  from    = host.node[1]
  to      = host.node[1]
  tcp     = 7000
  address = "127.0.0.1"
  source  = "127.0.0.1"
}

check "across-hosts-by-host-ip" {
  from   = host.node[1]
  to     = host.node[0]
  tcp    = 9000
  source = host.node[1].address
}

check "http-server-on-another-host" {
  from = host.node[2]
  exec = "python3 -c 'import urllib.request; urllib.request.urlopen(\"http://${host.node[0].address}:8000/\", timeout=3)'"
  # The server may still be starting right after apply: try for a while.
  within = "15s"
  # python3's start counts too: seconds on an emulated (TCG) Lima VM
  timeout = "10s"
}

# The client knows only the name: it asks the registry where the service
# is, then connects there.
check "port-0-found-through-the-registry" {
  from    = host.node[2]
  timeout = "10s"
  exec    = <<-EOT
    for i in $(seq 50); do
      where=$(etcdctl --endpoints=${local.registry} get --print-value-only services/echo 2>/dev/null) && [ -n "$where" ] && break
      sleep 0.2
    done
    echo "services/echo -> $where"
    python3 -c 'import socket,sys; h,p=sys.argv[1].rsplit(":",1); print(socket.create_connection((h,int(p)),3).recv(100).decode().strip())' "$where" | grep -q "for ${host.node[2].address}"
  EOT
}
