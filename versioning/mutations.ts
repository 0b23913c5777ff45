/**
 * Edits that break replay of running sagas, applied to a copy of workflows/ by versioning/mutation-check.ts.
 * Each is a change a developer could make without a patch; the replay corpus must catch every one.
 * Edits are anchored on source text: an anchor that no longer exists throws, so a refactor of the
 * saga shows up as a stale mutation instead of a silently passing one.
 */
export interface Mutation {
  name: string;
  /** The file under workflows/ it edits. */
  file: string;
  apply(source: string): string;
}

function at(source: string, anchor: string): number {
  const i = source.indexOf(anchor);
  if (i < 0) throw new Error(`anchor not found: ${anchor}`);
  if (source.indexOf(anchor, i + 1) >= 0) throw new Error(`anchor not unique: ${anchor}`);
  return i;
}

const replace = (anchor: string, by: string) => (s: string) => {
  const i = at(s, anchor);
  return s.slice(0, i) + by + s.slice(i + anchor.length);
};

const insertBefore = (anchor: string, text: string) => (s: string) => {
  const i = at(s, anchor);
  return s.slice(0, i) + text + s.slice(i);
};

/** Cuts [from, to) out and pastes it before `before`. */
const move = (from: string, to: string, before: string) => (s: string) => {
  const start = at(s, from);
  const end = at(s, to);
  if (end <= start) throw new Error(`block end before its start: ${to}`);
  const block = s.slice(start, end);
  const rest = s.slice(0, start) + s.slice(end);
  const i = at(rest, before);
  return rest.slice(0, i) + block + rest.slice(i);
};

const chain =
  (...edits: ((s: string) => string)[]) =>
  (s: string) =>
    edits.reduce((acc, edit) => edit(acc), s);

const importing = (name: string) => replace('import { CancellationScope,', `import { ${name}, CancellationScope,`);

const SAGA = 'order-fulfillment.ts';
const RESERVE = "    undos.add('releaseStock',";
const ALLOCATE = "    undos.add('cancelShipment',";
const CONFIRM = "    await step('confirmOrder',";
const PAYMENT_WAIT = "    if (authorization.status === 'pending') {";
const DISPATCH_WAIT = "    const shipment = await step('awaitDispatch',";

export const mutations: Mutation[] = [
  {
    name: 'add an activity (an extra stock check before reserving)',
    file: SAGA,
    apply: insertBefore(RESERVE, '    await participant.releaseStock();\n'),
  },
  {
    name: 'remove an activity (skip the shipment allocation)',
    file: SAGA,
    apply: replace(
      "    await step('allocateShipment',",
      "    if ((order.orderId as string) === '') await step('allocateShipment',",
    ),
  },
  {
    name: 'reorder activities (allocate the shipment before reserving stock)',
    file: SAGA,
    apply: move(RESERVE, ALLOCATE, CONFIRM),
  },
  {
    name: 'change an activity type (reserveStock becomes releaseStock)',
    file: 'participants.ts',
    apply: replace('call(\n        inventory.reserveStock,', 'call(\n        inventory.releaseStock,'),
  },
  {
    name: 'add an activity at the end (a follow-up after completion)',
    file: SAGA,
    apply: insertBefore("    state.outcome = { status: 'COMPLETED' };", "    await participant.escalateOrder('dispatch', 0);\n"),
  },
  {
    name: 'remove a compensation (no void of the authorization)',
    file: SAGA,
    apply: replace(
      "    undos.add('voidAuthorization',",
      "    if ((order.orderId as string) === '') undos.add('voidAuthorization',",
    ),
  },
  {
    // Parallel instead of sequential undo is NOT one: the commands keep their order, replay accepts it.
    name: 'reorder compensations (undo in registration order, not reverse)',
    file: 'undos.ts',
    apply: replace(".filter((e) => e.record.state !== 'done').reverse();", ".filter((e) => e.record.state !== 'done');"),
  },
  {
    name: 'add a timer (a cooling-off pause before reserving stock)',
    file: SAGA,
    apply: chain(importing('sleep'), insertBefore(RESERVE, "    await sleep('1 second');\n")),
  },
  {
    name: 'remove a timer (waits without an SLA timer)',
    file: 'steps.ts',
    apply: replace(
      ': await condition(wake, Math.max(0, state.waitingSince + slaSeconds * 1000 - Date.now()));',
      ': await condition(wake).then(() => true);',
    ),
  },
  {
    name: 'add a child workflow (reserve stock through a child saga)',
    file: SAGA,
    apply: chain(
      importing('startChild'),
      insertBefore(
        RESERVE,
        "    await startChild('orderFulfillment', { workflowId: `${workflowId}-reservation`, args: [order] });\n",
      ),
    ),
  },
  {
    name: 'move a signal wait (await the payment webhook after reserving stock)',
    file: SAGA,
    apply: move(PAYMENT_WAIT, RESERVE, ALLOCATE),
  },
  {
    name: 'move a signal wait (await dispatch before confirming the order)',
    file: SAGA,
    apply: move(DISPATCH_WAIT, "    state.dispatched = true;\n\n      if (order.payment.capture === 'at-dispatch')", CONFIRM),
  },
  {
    name: 'drop a patch guard (fraud screening for every saga, also those past submission)',
    file: SAGA,
    apply: replace(": patched('fraud-screening');", ': true;'),
  },
  {
    name: 'reorder a wait and a step (capture before the payment webhook is in)',
    file: SAGA,
    apply: move("    if (order.payment.capture === 'at-confirmation') {", DISPATCH_WAIT, PAYMENT_WAIT),
  },
];
