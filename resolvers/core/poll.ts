// How long a library's poll(fds, n, timeout_ms) sleeps when nothing arrives.
/**
 * Linux gives poll's timer a slack of 0.1 % of the timeout (fs/select.c select_estimate_accuracy;
 * at least the task's 50 us timer_slack_ns), and an idle CPU wakes at the end of it: the real
 * musl, timeout:5, resends at 2502.7 ms and gives up at 5005.3 (fidelity, aaaa-drop-defaults).
 * A busy CPU's tick may end the sleep anywhere inside the slack; the idle case is modelled.
 */
export const pollSleep = (timeoutMs: number): number => (timeoutMs <= 0 ? 0 : timeoutMs + Math.max(0.05, timeoutMs / 1000));
