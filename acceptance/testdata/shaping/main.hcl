# Link shaping: the sender's eth0 sends at var.rate (tc tbf); delay and
# loss need the kernel's netem. An empty rate and a zero delay or loss
# leave the link unshaped.

lab {
  name = "shaping"
}

variable "rate" {
  type    = string
  default = "10mbit"
}

variable "delay" {
  type    = string
  default = "0s"
}

network "lan" {
  cidr = "192.168.77.0/24"
}

host "node" {
  count   = 1
  network = network.lan
}

bridge "shape0" {
  host = host.node[0]
  cidr = "10.77.0.0/24"
}

container "sender" {
  host    = host.node[0]
  bridge  = bridge.shape0
  address = "10.77.0.2"
  rate    = var.rate == "" ? null : var.rate
  delay   = var.delay
}

container "receiver" {
  host    = host.node[0]
  bridge  = bridge.shape0
  address = "10.77.0.3"
}

# Reads each connection to its end and answers with the byte count.
process "sink" {
  on = container.receiver
  command = ["python3", "-c", <<-EOT
    import socket
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 5001))
    s.listen(8)
    while True:
        c, _ = s.accept()
        c.settimeout(30)
        n = 0
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                n += len(d)
            c.sendall(str(n).encode())
        except OSError:
            pass
        c.close()
    EOT
  ]
}

output "sender_shaping" {
  value = [container.sender.rate, container.sender.delay, container.sender.loss]
}
