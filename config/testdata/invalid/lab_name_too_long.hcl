# error: at most 20 characters @ 2:14
lab { name = "abcdefghijklmnopqrstuvwxyz" }
