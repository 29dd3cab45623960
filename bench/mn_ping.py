#!/usr/bin/python3
"""Mininet side of bench/run.sh's reachability comparison.

Builds Mininet's `single,N` topology on a Linux bridge (`--switch lxbr`,
no controller), as `mn --topo single,N --switch lxbr --controller none`
does, then times every host pinging one shared address on the bridge once
(h1's 10.0.0.1; h1 itself pings h2), the closest equivalent of labnet's
"every container pings its bridge's gateway" (Mininet's switch has no
address of its own). Two ways:

  seq   one host after another, as Mininet's own net.ping()/pingAll() do
  par   every host's ping started at once (sendCmd), then all awaited

Prints one JSON line: {"build_ms", "ping_seq_ms", "ping_par_ms",
"stop_ms", "fails_seq", "fails_par"}. The network is always stopped.
"""
import json
import sys
import time

from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mininet.topo import SingleSwitchTopo


def main():
    n = int(sys.argv[1])
    setLogLevel('warning')
    out = {}
    t = time.monotonic()
    net = Mininet(topo=SingleSwitchTopo(k=n), switch=LinuxBridge, controller=None)
    try:
        net.start()
        out['build_ms'] = round((time.monotonic() - t) * 1000)
        hosts = net.hosts
        target = {h.name: ('10.0.0.2' if h.name == 'h1' else '10.0.0.1') for h in hosts}
        t = time.monotonic()
        fails = 0
        for h in hosts:
            r = h.cmd('ping -n -q -c 1 -W 3 %s >/dev/null 2>&1; echo $?' % target[h.name]).strip()
            fails += r != '0'
        out['ping_seq_ms'] = round((time.monotonic() - t) * 1000)
        out['fails_seq'] = fails
        t = time.monotonic()
        for h in hosts:
            h.sendCmd('ping -n -q -c 1 -W 3 %s >/dev/null 2>&1; echo $?' % target[h.name])
        fails = 0
        for h in hosts:
            fails += h.waitOutput().strip() != '0'
        out['ping_par_ms'] = round((time.monotonic() - t) * 1000)
        out['fails_par'] = fails
    finally:
        t = time.monotonic()
        net.stop()
        out['stop_ms'] = round((time.monotonic() - t) * 1000)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
