import { appendEvents } from '../outbox/append';
import { openDatabase, type Database } from '../platform/database';
import { benchEvent } from './relay-events';

/**
 * The lag run's writers, in a process of their own (as saga workers are): `rate` events/s for
 * `seconds`, `perTx` events per transaction in one statement (`appendEvents`; 1: each event its
 * own, as a saga step writes it), many in flight (several pools on PostgreSQL; SQLite serialises
 * them anyway). Reports the rate it managed to offer: on a loaded 2-core machine one event per
 * transaction stays far below 5,000/s.
 * Also sends when each event's transaction committed, so lag can be measured from there too.
 */
async function main([url, run, rateText, secondsText, perTxText = '1']: string[]): Promise<void> {
  const rate = Number(rateText);
  const perTx = Math.max(1, Number(perTxText));
  const total = rate * Number(secondsText);
  const pools: Database[] = Array.from({ length: url!.startsWith('postgres') ? 4 : 1 }, () => openDatabase(url!));
  const inFlight = url!.startsWith('postgres') ? 32 : 8;
  const began = Date.now();
  // When each event's transaction committed (by index): the relay cannot see a row before that.
  const committed = new Array<number>(total);
  let appended = 0;
  while (appended < total) {
    const due = Math.min(total, Math.floor(((Date.now() - began) * rate) / 1000));
    const writes: Promise<unknown>[] = [];
    while (appended < due) {
      const first = appended;
      const last = Math.min(due, first + perTx);
      appended = last;
      const db = pools[((first / perTx) % pools.length) | 0]!;
      writes.push(
        db
          .transaction((tx) =>
            appendEvents(
              tx,
              Array.from({ length: last - first }, (_, k) => benchEvent(run!, first + k)),
            ),
          )
          .then(() => {
            const at = Date.now();
            for (let i = first; i < last; i++) committed[i] = at;
          }),
      );
      if (writes.length >= inFlight) await Promise.all(writes.splice(0));
    }
    await Promise.all(writes);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const seconds = (Date.now() - began) / 1000;
  for (const db of pools) await db.close();
  // Exit only once the message is out: 50,000 commit times do not fit in one write of the channel.
  await new Promise<void>((resolve) =>
    process.send ? process.send({ offered: Math.round(total / seconds), seconds, committed }, () => resolve()) : resolve(),
  );
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
