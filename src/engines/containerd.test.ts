// `ctr task ls` answers: the table ctr prints (tabwriter, padded with spaces), and output that does
// not look like it.
import { describe, expect, it } from 'vitest';
import { ctrTaskListArgs, parseTaskList } from './containerd.js';

describe('ctrTaskListArgs', () => {
  it('address and namespace as --flag=value, a bounded connect', () => {
    expect(ctrTaskListArgs('/t/c.sock', 'k8s.io')).toEqual(['--address=/t/c.sock', '--namespace=k8s.io', '--connect-timeout=5s', 'task', 'ls']);
  });
});

describe('parseTaskList', () => {
  it('the tasks of a namespace, as ctr 1.6 prints them', () => {
    const out = 'TASK                                                                PID      STATUS    \n' +
      'web                                                                 31337    RUNNING\n' +
      '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef    4242     STOPPED\n' +
      'paused-1                                                            77       PAUSED\n';
    expect(parseTaskList(out)).toEqual([
      { id: 'web', pid: 31337, status: 'RUNNING' },
      { id: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', pid: 4242, status: 'STOPPED' },
      { id: 'paused-1', pid: 77, status: 'PAUSED' },
    ]);
  });

  it('an empty namespace: the header alone', () => {
    expect(parseTaskList('TASK    PID    STATUS    \n')).toEqual([]);
  });

  it.each([
    ['', /does not start with the header/],
    ['ID PID STATUS\n', /does not start with the header/],
    ['TASK PID STATUS\nweb 12\n', /line 2 is not TASK PID STATUS/],
    ['TASK PID STATUS\nweb 12 RUNNING extra\n', /line 2 is not TASK PID STATUS/],
    ['TASK PID STATUS\nweb x12 RUNNING\n', /line 2: the PID is not a process id/],
    ['TASK PID STATUS\nweb -1 RUNNING\n', /line 2: the PID is not a process id/],
    ['TASK PID STATUS\nweb 99999999 RUNNING\n', /line 2: the PID is not a process id/],
    ['TASK PID STATUS\nweb 4194305 RUNNING\n', /line 2: the PID is not a process id/],
    ['TASK PID STATUS\nok 1 RUNNING\nweb 12 running\n', /line 3: the STATUS is not a task status/],
  ])('refuses %j', (text, message) => {
    expect(() => parseTaskList(text)).toThrow(message);
  });
});
