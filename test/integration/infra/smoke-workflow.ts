import { proxyActivities, sleep } from '@temporalio/workflow';

const { greet } = proxyActivities<{ greet(name: string): Promise<string> }>({ startToCloseTimeout: '10s' });

export async function smokeGreeting(name: string): Promise<string> {
  return greet(name);
}

/** Sleeps a day of workflow time and reports how much workflow time passed. */
export async function smokeLongSleep(): Promise<number> {
  const before = Date.now();
  await sleep('1 day');
  return Date.now() - before;
}
