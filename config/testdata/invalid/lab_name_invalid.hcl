# error: Invalid lab name @ 2:14
lab { name = "My Lab" }
