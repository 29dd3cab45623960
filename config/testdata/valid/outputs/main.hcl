lab { name = "outputs" }

network "lan" { cidr = "192.168.7.0/24" }

host "a" { network = network.lan }

output "plain" { value = "text" }

output "host" {
  value       = host.a.address
  description = "the address of host a"
}

output "secret" {
  value     = 42
  sensitive = true
}

output "object" { value = { net = network.lan.cidr, gw = network.lan.gateway, host = host.a.name } }
