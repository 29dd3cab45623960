# error: Did you mean "host" @ 2:1
hots "x" {}
