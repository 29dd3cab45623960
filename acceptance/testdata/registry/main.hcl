# A host and a bridge for containers from a registry on loopback:
# TestRegistryImages starts the registry, pushes a busybox image and adds
# the containers and their check, with the registry's address.
lab {
  name = "registry"
}
network "lan" { cidr = "192.168.72.0/24" }
host "node" { network = network.lan }
bridge "br" {
  host = host.node
  cidr = "172.29.0.0/16"
}
