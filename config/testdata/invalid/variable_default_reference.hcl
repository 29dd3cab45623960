# error: Variables not allowed @ 3:13
variable "x" {
  default = var.y
}
variable "y" {
  default = 1
}
