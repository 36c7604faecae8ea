// The kernel filter of a DNS capture, as classic BPF (what SO_ATTACH_FILTER takes): keep IPv4 and
// IPv6 UDP/TCP packets with one of the given ports as source or destination, every ICMP/ICMPv6
// packet (port unreachable is how a closed server answers) and non-first IPv4 fragments (their
// ports are not visible); drop everything else before it is copied to user space. It runs on
// cooked packets (offset 0 = the network header). The decoder checks everything again: a filter
// is an optimisation, never the only guard.
import type { BpfInstruction } from '../../native/packet.js';

const LD_H_ABS = 0x28;
const LD_B_ABS = 0x30;
const LD_H_IND = 0x48;
const LDX_B_MSH = 0xb1;
const LDX_IMM = 0x01;
const JEQ_K = 0x15;
const JSET_K = 0x45;
const RET_K = 0x06;
/** SKF_AD_OFF + SKF_AD_PROTOCOL: the packet's ethertype */
const AD_PROTOCOL = 0xfffff000;

/** How much of a kept packet is copied: DNS over UDP fits in 64 KiB. */
export const SNAP_BYTES = 65_535;

type Step = { op: number; k: number; jt?: string; jf?: string } | { label: string };

/** Assembles steps with symbolic jump targets ("next" = fall through) into instructions. */
function assemble(steps: Step[]): BpfInstruction[] {
  const code = steps.filter((s): s is Exclude<Step, { label: string }> => !('label' in s));
  const at = new Map<string, number>();
  let n = 0;
  for (const s of steps) {
    if ('label' in s) at.set(s.label, n);
    else n++;
  }
  const offset = (from: number, label: string | undefined): number => {
    if (label === undefined || label === 'next') return 0;
    const to = at.get(label);
    if (to === undefined || to <= from) throw new Error(`bpf: bad jump target ${label}`);
    const d = to - from - 1;
    if (d > 255) throw new Error(`bpf: jump to ${label} too far (${d})`);
    return d;
  };
  return code.map((s, i) => ({ code: s.op, k: s.k >>> 0, jt: offset(i, s.jt), jf: offset(i, s.jf) }));
}

/** Compares the 16-bit value in A with each port: equal → keep. */
const portChecks = (ports: number[], otherwise: string): Step[] =>
  ports.map((p, i) => ({ op: JEQ_K, k: p, jt: 'keep', jf: i === ports.length - 1 ? otherwise : 'next' }));

/** The filter for DNS on `ports` (1..8 ports, each 1..65535). */
export function dnsCaptureFilter(ports: number[]): BpfInstruction[] {
  if (ports.length === 0 || ports.length > 8 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65_535)) {
    throw new Error(`capture ports must be 1 to 8 ports in 1..65535, not ${JSON.stringify(ports)}`);
  }
  return assemble([
    { op: LD_H_ABS, k: AD_PROTOCOL },
    { op: JEQ_K, k: 0x0800, jt: 'v4', jf: 'next' },
    { op: JEQ_K, k: 0x86dd, jt: 'v6', jf: 'drop' },
    { label: 'v4' },
    { op: LD_B_ABS, k: 9 },
    { op: JEQ_K, k: 1, jt: 'keep', jf: 'next' },
    { op: JEQ_K, k: 17, jt: 'v4ports', jf: 'next' },
    { op: JEQ_K, k: 6, jt: 'v4ports', jf: 'drop' },
    { label: 'v4ports' },
    { op: LD_H_ABS, k: 6 },
    { op: JSET_K, k: 0x1fff, jt: 'keep', jf: 'next' },
    { op: LDX_B_MSH, k: 0 },
    { op: LD_H_IND, k: 0 },
    ...portChecks(ports, 'v4dst'),
    { label: 'v4dst' },
    { op: LD_H_IND, k: 2 },
    ...portChecks(ports, 'drop'),
    { label: 'v6' },
    { op: LD_B_ABS, k: 6 },
    { op: JEQ_K, k: 58, jt: 'keep', jf: 'next' },
    { op: JEQ_K, k: 17, jt: 'v6ports', jf: 'next' },
    { op: JEQ_K, k: 6, jt: 'v6ports', jf: 'drop' },
    { label: 'v6ports' },
    { op: LDX_IMM, k: 40 },
    { op: LD_H_IND, k: 0 },
    ...portChecks(ports, 'v6dst'),
    { label: 'v6dst' },
    { op: LD_H_IND, k: 2 },
    ...portChecks(ports, 'drop'),
    { label: 'keep' },
    { op: RET_K, k: SNAP_BYTES },
    { label: 'drop' },
    { op: RET_K, k: 0 },
  ]);
}
