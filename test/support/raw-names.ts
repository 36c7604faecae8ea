// Helpers for tests that put hostile bytes into query names: a sender that puts any bytes in a
// label (dig would refuse them), and a finder for terminal control characters in output.

/** Python: sends one A query for the labels given as hex (argv[1], comma-separated) to argv[2]:53 and prints the reply's rcode. */
export const SEND_RAW_NAME = String.raw`
import socket, struct, sys
labels = [bytes.fromhex(h) for h in sys.argv[1].split(',')]
q = struct.pack('!HHHHHH', 0x1234, 0x0100, 1, 0, 0, 0) + b''.join(bytes([len(l)]) + l for l in labels) + b'\0' + struct.pack('!HH', 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(q, (sys.argv[2], 53))
r, _ = s.recvfrom(4096)
print('rcode', r[3] & 15)
`;

/** Every character a terminal acts on instead of showing, but the newline: C0, DEL, C1. */
const CONTROLS = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

/** The control characters in `text`, as U+XXXX. */
export const controlsIn = (text: string): string[] =>
  [...text].filter((c) => CONTROLS.test(c)).map((c) => `U+${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
