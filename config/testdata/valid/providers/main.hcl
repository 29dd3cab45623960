lab { name = "providers" }
network "lan" { cidr = "10.10.0.0/24" }
host "local" { network = network.lan }
host "remote" {
  network  = network.lan
  provider = "ssh"
  address  = "10.10.0.5"
  ssh {
    user             = "labnet"
    private_key_file = "keys/id_ed25519"
    port             = 2222
    host_key         = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBfgbPGyuRMZjfXV94KKOyZh+ZyigcMD1h/dNntwQunh"
  }
}
host "plain-ssh" {
  network  = network.lan
  provider = "ssh"
  address  = "10.10.0.6"
}
host "known" {
  network  = network.lan
  provider = "ssh"
  address  = "10.10.0.7"
  ssh { known_hosts = "~/.ssh/known_hosts" }
}
host "vm" {
  network  = network.lan
  provider = "lima"
  lima {
    cpus      = 2
    memory    = "2GiB"
    disk      = "20GiB"
    template  = "template://debian-12"
    provision = <<-EOT
      command -v etcd >/dev/null || apt-get install -y etcd-server
    EOT
  }
}
host "vm-image" {
  network  = network.lan
  provider = "lima"
  lima {
    image   = "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2"
    network = "shared"
  }
}
host "vm-default" {
  network  = network.lan
  provider = "lima"
}
# ssh and lima blocks are allowed whatever the provider; only the block of
# the host's own provider is used (a lab switches provider with a variable)
host "local-both" {
  network = network.lan
  ssh { user = "lab" }
  lima { template = "/srv/lima/offline.yaml" }
}
host "ssh-lima" {
  network  = network.lan
  provider = "ssh"
  address  = "10.10.0.8"
  lima { cpus = 4 }
}
host "vm-ssh-block" {
  network  = network.lan
  provider = "lima"
  ssh { port = 2200 }
  lima { memory = "512MiB" }
}
output "providers" {
  value = [for h in [host.local, host.remote, host.plain-ssh, host.vm] : "${h.name}=${h.provider}@${h.address}"]
}
