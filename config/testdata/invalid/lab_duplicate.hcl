# error: Duplicate lab block @ 3:1
lab { name = "a" }
lab { name = "b" }
