# With --hold: holds its stdin without reading (data stays in flight in the pipe).
# Otherwise: reads stdin to EOF and checks that lines 0..N-1 arrived complete and in order.
import os, sys, time

if '--hold' in sys.argv:
    while True:
        time.sleep(3600)

data = b''
while chunk := os.read(0, 65536):
    data += chunk
lines = data.decode().split('\n')[:-1]
numbers = [int(n) for n in lines]
expected = list(range(len(numbers)))
ok = numbers == expected
print(f'consumer: received {len(numbers)} lines ({len(data)} bytes) up to EOF; '
      f'{"every line present, in order" if ok else "LINES LOST OR REORDERED"}', flush=True)
sys.exit(0 if ok else 1)
