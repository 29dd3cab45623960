# a: set by default, env, var-file and -var; b: default, env, var-file;
# c: default and env; d: default only; e: no default, set by env only;
# f: list from -var; g: untyped, raw text from -var.
lab { name = "vars" }

variable "a" {
  type    = number
  default = 1
}

variable "b" {
  type    = string
  default = "default"
}

variable "c" {
  type    = bool
  default = false
}

variable "d" {
  type        = map(string)
  default     = { x = "1" }
  description = "only a default"
}

variable "e" {
  type = number
}

variable "f" {
  type    = list(string)
  default = []
}

variable "g" {}

network "lan" { cidr = "10.0.0.0/24" }

host "h" {
  count   = var.a
  network = network.lan
}

output "all" {
  value = {
    a = var.a
    b = var.b
    c = var.c
    d = var.d
    e = var.e
    f = var.f
    g = var.g
  }
}
