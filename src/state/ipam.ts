// Address allocation, host-local style: scan forward from the last reserved address, wrapping once,
// so a create costs O(1) reservations attempts in the usual case instead of a scan of all containers. Pure.
import { broadcastOf, gatewayOf, type Subnet } from '../config/ipv4.js';

/** Addresses a container may get in this subnet: not the network, gateway or broadcast address. */
export function isAssignable(s: Subnet, addr: number): boolean {
  return addr > gatewayOf(s) && addr < broadcastOf(s);
}

/** Candidate addresses in allocation order, starting after `last` (or at the first host address). */
export function* candidates(s: Subnet, last: number | undefined): Generator<number> {
  const first = gatewayOf(s) + 1;
  const end = broadcastOf(s) - 1;
  const start = last !== undefined && last >= first && last < end ? last + 1 : first;
  for (let a = start; a <= end; a++) yield a;
  for (let a = first; a < start; a++) yield a;
}
