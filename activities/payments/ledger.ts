import type { Money } from '../../domain/money';
import type { Sql } from '../../platform/database';
import { expectOneChanged } from '../tcc';

/** SQL of the payments ledger; every function runs inside the caller's transaction. */
export type AuthorizationStatus = 'pending' | 'authorized' | 'declined' | 'voided' | 'captured' | 'refunded';

export interface Authorization {
  authorizationId: string;
  orderId: string;
  amount: Money;
  status: AuthorizationStatus;
  reason: string | null;
}

interface AuthorizationRow {
  authorization_id: string;
  order_id: string;
  amount: number;
  currency: string;
  status: AuthorizationStatus;
  reason: string | null;
}

const toAuthorization = (r: AuthorizationRow): Authorization => ({
  authorizationId: r.authorization_id,
  orderId: r.order_id,
  amount: { amount: Number(r.amount), currency: r.currency },
  status: r.status,
  reason: r.reason,
});

export async function authorizationByKey(tx: Sql, key: string): Promise<Authorization | undefined> {
  const row = await tx.get<AuthorizationRow>('SELECT * FROM payment_authorizations WHERE idempotency_key = ?', [key]);
  return row && toAuthorization(row);
}

export async function authorizationById(tx: Sql, id: string): Promise<Authorization | undefined> {
  const row = await tx.get<AuthorizationRow>('SELECT * FROM payment_authorizations WHERE authorization_id = ?', [id]);
  return row && toAuthorization(row);
}

export async function insertAuthorization(tx: Sql, key: string, a: Authorization, methodToken: string): Promise<Authorization> {
  await tx.run(
    `INSERT INTO payment_authorizations (authorization_id, idempotency_key, order_id, amount, currency, method_token, status, reason)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [a.authorizationId, key, a.orderId, a.amount.amount, a.amount.currency, methodToken, a.status, a.reason],
  );
  return a;
}

/** Compare-and-set: moves the authorization from `from` to `to`; LostRace if it is no longer `from`. */
export async function moveAuthorization(
  tx: Sql,
  id: string,
  from: AuthorizationStatus,
  to: AuthorizationStatus,
  reason: string | null = null,
): Promise<void> {
  expectOneChanged(
    await tx.run(
      'UPDATE payment_authorizations SET status = ?, reason = COALESCE(?, reason) WHERE authorization_id = ? AND status = ?',
      [to, reason, id, from],
    ),
    `authorization ${id} ${from} -> ${to}`,
  );
}

export interface PaymentResult {
  authorizationId: string;
  status: 'authorized' | 'declined';
  reason: string | null;
}

export const findResult = async (tx: Sql, key: string): Promise<PaymentResult | undefined> => {
  const row = await tx.get<{ authorization_id: string; status: PaymentResult['status']; reason: string | null }>(
    'SELECT authorization_id, status, reason FROM payment_results WHERE idempotency_key = ?',
    [key],
  );
  return row && { authorizationId: row.authorization_id, status: row.status, reason: row.reason };
};

export async function insertResult(tx: Sql, key: string, r: PaymentResult): Promise<PaymentResult> {
  await tx.run('INSERT INTO payment_results (idempotency_key, authorization_id, status, reason) VALUES (?, ?, ?, ?)', [
    key,
    r.authorizationId,
    r.status,
    r.reason,
  ]);
  return r;
}

export interface Void {
  authorizationId: string | null;
  amount: number | null;
}

export const findVoid = async (tx: Sql, key: string): Promise<Void | undefined> => {
  const row = await tx.get<{ authorization_id: string | null; amount: number | null }>(
    'SELECT authorization_id, amount FROM payment_voids WHERE idempotency_key = ?',
    [key],
  );
  return row && { authorizationId: row.authorization_id, amount: row.amount === null ? null : Number(row.amount) };
};

/** The key of the void that voided this authorization, if one did. */
export async function voidedBy(tx: Sql, authorizationId: string): Promise<string | undefined> {
  const row = await tx.get<{ idempotency_key: string }>('SELECT idempotency_key FROM payment_voids WHERE authorization_id = ?', [
    authorizationId,
  ]);
  return row?.idempotency_key;
}

export async function insertVoid(tx: Sql, key: string, orderId: string, v: Void): Promise<Void> {
  await tx.run('INSERT INTO payment_voids (idempotency_key, order_id, authorization_id, amount) VALUES (?, ?, ?, ?)', [
    key,
    orderId,
    v.authorizationId,
    v.amount,
  ]);
  return v;
}

export interface Capture {
  captureId: string;
  authorizationId: string;
  amount: Money;
}

interface CaptureRow {
  capture_id: string;
  authorization_id: string;
  amount: number;
  currency: string;
}
const toCapture = (r: CaptureRow): Capture => ({
  captureId: r.capture_id,
  authorizationId: r.authorization_id,
  amount: { amount: Number(r.amount), currency: r.currency },
});

export async function captureByKey(tx: Sql, key: string): Promise<Capture | undefined> {
  const row = await tx.get<CaptureRow>('SELECT * FROM payment_captures WHERE idempotency_key = ?', [key]);
  return row && toCapture(row);
}

export async function insertCapture(tx: Sql, key: string, orderId: string, c: Capture): Promise<Capture> {
  await tx.run(
    'INSERT INTO payment_captures (capture_id, idempotency_key, order_id, authorization_id, amount, currency) VALUES (?, ?, ?, ?, ?, ?)',
    [c.captureId, key, orderId, c.authorizationId, c.amount.amount, c.amount.currency],
  );
  return c;
}

export interface Refund {
  refundId: string | null;
  captureId: string | null;
  amount: Money | null;
}

export async function findRefund(tx: Sql, key: string): Promise<Refund | undefined> {
  const row = await tx.get<{
    refund_id: string | null;
    capture_id: string | null;
    amount: number | null;
    currency: string | null;
  }>('SELECT refund_id, capture_id, amount, currency FROM payment_refunds WHERE idempotency_key = ?', [key]);
  return (
    row && {
      refundId: row.refund_id,
      captureId: row.capture_id,
      amount: row.amount === null || row.currency === null ? null : { amount: Number(row.amount), currency: row.currency },
    }
  );
}

export async function insertRefund(tx: Sql, key: string, orderId: string, r: Refund): Promise<Refund> {
  await tx.run(
    'INSERT INTO payment_refunds (idempotency_key, order_id, refund_id, capture_id, amount, currency) VALUES (?, ?, ?, ?, ?, ?)',
    [key, orderId, r.refundId, r.captureId, r.amount?.amount ?? null, r.amount?.currency ?? null],
  );
  return r;
}
