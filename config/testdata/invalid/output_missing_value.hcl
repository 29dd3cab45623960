# error: The argument "value" is required @ 2:1
output "x" {
  description = "no value"
}
