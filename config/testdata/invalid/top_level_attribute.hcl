# error: Unsupported argument @ 2:1
name = "x"
