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

# A route with two next hops appears a moment after apply.
process "ecmp" {
  on      = host.h
  command = ["sh", "-c", "sleep 1; ip route replace 10.0.4.0/24 nexthop via 192.168.91.1 dev eth0 nexthop via 192.168.91.2 dev eth0; exec sleep 600"]
}

check "two-paths" {
  from     = host.h
  route    = "10.0.4.0/24"
  nexthops = 2
  via      = ["192.168.91.2"]
  within   = "20s"
}

check "no-route" {
  from   = host.h
  route  = "10.9.9.0/24"
  expect = "blocked"
}

check "wrong-count" {
  from     = host.h
  route    = "192.168.91.0/24"
  nexthops = 2
}
