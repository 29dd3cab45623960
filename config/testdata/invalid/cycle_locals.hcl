# error: local.a -> local.b -> local.a @ 3:3
locals {
  a = local.b
  b = local.a
}
