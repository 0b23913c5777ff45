import { describeStack, startStack, stopOnSignal } from '../infra/stack';

/**
 * `npm start`: the embedded stack, then every Trapeze role in this one process, then the demo
 * orders; stays up until Ctrl-C or SIGTERM, which stop the roles first and the stack last.
 */
async function main(): Promise<void> {
  const began = Date.now();
  const stack = await startStack();
  Object.assign(process.env, stack.env);
  console.log(`stack ready in ${((Date.now() - began) / 1000).toFixed(1)} s:\n${describeStack(stack)}`);
  stopOnSignal(stack.stop);
  console.log('Ctrl-C stops it.');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
