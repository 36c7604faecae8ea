export * from './constants.js';
export { SyscallError, errnoName } from './errno.js';
export {
  unshare,
  setns,
  mount,
  umount2,
  sethostname,
  gettid,
  flock,
  socket,
  send,
  recv,
  close,
} from './libc.js';
export {
  sockAddr,
  ifNameToIndex,
  ifIndexToName,
  scopeIdOf,
  udpSocket,
  udpDualStackSocket,
  udpConnect,
  udpSourceFor,
  closeFd,
  udpSend,
  udpSendTo,
  prepareUdp,
  type SockAddr,
  type Errno,
} from './udp.js';
export { sleepUntil, prepareClock } from './clock.js';
export { udpSendMany, udpHasPending } from './mmsg.js';
