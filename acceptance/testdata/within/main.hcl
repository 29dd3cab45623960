# A check with `within` is tried again until it passes: the file the check
# looks for appears a second after apply; another check never passes.
lab {
  name = "within"
}

network "lan" {
  cidr = "192.168.91.0/24"
}

host "h" {
  network = network.lan
}

process "late" {
  on      = host.h
  command = ["sh", "-c", "rm -f /run/labnet-within-ready; sleep 1.5; touch /run/labnet-within-ready; exec sleep 600"]
}

check "appears" {
  from    = host.h
  exec    = "test -e /run/labnet-within-ready"
  timeout = "1s"
  within  = "20s"
}

check "never" {
  from    = host.h
  exec    = "false"
  timeout = "1s"
  within  = "2s"
}

check "output-matches" {
  from          = host.h
  exec          = "echo hello-42"
  expect_output = "^hello-[0-9]+$"
}

check "output-differs" {
  from          = host.h
  exec          = "echo goodbye"
  expect_output = "hello"
}
