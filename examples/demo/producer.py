# Writes numbered lines "N\n" for N in [start, end) to stdout, then either holds the pipe
# open (--hold, the state we checkpoint) or closes it and exits.
import os, sys, time

start, end = int(sys.argv[1]), int(sys.argv[2])
out = sys.stdout.fileno()
data = ''.join(f'{n}\n' for n in range(start, end)).encode()
view = memoryview(data)
while view:
    view = view[os.write(out, view):]
if '--hold' in sys.argv:
    while True:
        time.sleep(3600)
os.close(out)
