import type { Sql } from '../../platform/database';

/** SQL of the fraud ledger; every function runs inside the caller's transaction. */
export interface Screening {
  orderId: string;
  customerId: string;
  verdict: 'clear' | 'rejected';
  score: number;
  signals: string[];
}

interface ScreeningRow {
  order_id: string;
  customer_id: string;
  verdict: 'clear' | 'rejected';
  score: number;
  signals: string;
}

export async function screeningByKey(tx: Sql, key: string): Promise<Screening | undefined> {
  const row = await tx.get<ScreeningRow>('SELECT * FROM fraud_screenings WHERE idempotency_key = ?', [key]);
  return (
    row && {
      orderId: row.order_id,
      customerId: row.customer_id,
      verdict: row.verdict,
      score: Number(row.score),
      signals: JSON.parse(row.signals) as string[],
    }
  );
}

export async function insertScreening(tx: Sql, key: string, s: Screening): Promise<Screening> {
  await tx.run(
    'INSERT INTO fraud_screenings (idempotency_key, order_id, customer_id, verdict, score, signals) VALUES (?, ?, ?, ?, ?, ?)',
    [key, s.orderId, s.customerId, s.verdict, s.score, JSON.stringify(s.signals)],
  );
  return s;
}
