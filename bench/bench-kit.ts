/** Small pieces the saga benchmarks share: percentiles, a bounded pool, the order they start. */
export const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

/** Runs fn over items with at most `concurrency` in flight (starting 10,000 sagas at once would swamp the server). */
export async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export const anOrder = (orderId: string) => ({
  orderId,
  customer: { id: 'bench', name: 'Bench', email: 'bench@example.com' },
  lines: [{ sku: 'beans', quantity: 1, unitPrice: { amount: 1000, currency: 'EUR' } }],
  shippingAddress: { name: 'Bench', line1: 'Street 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
  payment: { methodToken: 'tok_visa' },
});
