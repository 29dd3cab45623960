# error: No value for required variable @ 2:1
variable "x" {
  type = number
}
