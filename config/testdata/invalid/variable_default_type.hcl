# error: Invalid value for variable @ 4:13
variable "x" {
  type    = number
  default = "abc"
}
