import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';
import { formatMoney, orderTotal } from '../domain/amounts';
import { idempotencyKey } from '../domain/ids';
import type { CompensationName, EscalationName, StepName, UnfulfilledStatus } from '../domain/saga';
import {
  afterDispatchOptions,
  call,
  escalationOptions,
  fraud,
  fraudOptions,
  inventory,
  inventoryOptions,
  orders,
  ordersOptions,
  payments,
  paymentsOptions,
  shipping,
  shippingOptions,
  undoOptions,
} from './activity-options';
import type { DispatchConfirmation, OrderSagaInput, PaymentWebhook } from './definitions';

/**
 * Every call the saga makes to a participant, bound to one order: the request each needs, the
 * idempotency key of its step (`order-<id>/<step>`, never the attempt) and its summary in the UI.
 * The saga's sequence lives in order-fulfillment.ts; this is what each step sends.
 */
export function participantsFor(order: OrderSagaInput, workflowId: string, { undoWaitsForStep = false } = {}) {
  const ref = (step: StepName | CompensationName | EscalationName) => ({
    orderId: order.orderId,
    workflowId,
    key: idempotencyKey(workflowId, step),
  });
  const key = (step: StepName) => idempotencyKey(workflowId, step);
  const total = orderTotal(order);
  const money = formatMoney(total);
  const a = order.shippingAddress;
  // Release 1.2: on an operator's cancellation the saga waits for the step in flight to finish,
  // so its undo never runs before it (the SDK's default lets the saga move on at once).
  const forward = (options: ActivityOptions): ActivityOptions =>
    undoWaitsForStep ? { ...options, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED } : options;

  return {
    submitOrder: () =>
      call(orders.submitOrder, forward(ordersOptions), `submit order ${order.orderId}: ${order.lines.length} line(s), ${money}`, {
        ...ref('submitOrder'),
        customerId: order.customer.id,
        lines: order.lines,
        total,
      }),
    screenOrder: () =>
      call(fraud.screenOrder, forward(fraudOptions), `screen order ${order.orderId} for fraud`, {
        ...ref('screenOrder'),
        customerId: order.customer.id,
        total,
        methodToken: order.payment.methodToken,
        shippingCountry: a.country,
      }),
    authorizePayment: () =>
      call(payments.authorizePayment, forward(paymentsOptions), `authorize ${money}`, {
        ...ref('authorizePayment'),
        amount: total,
        methodToken: order.payment.methodToken,
      }),
    recordPaymentResult: (authorizationId: string, answer: PaymentWebhook) =>
      call(
        payments.recordPaymentResult,
        forward(paymentsOptions),
        `payment webhook: ${answer.approved ? 'approved' : 'declined'}`,
        {
          ...ref('awaitPaymentResult'),
          authorizationId,
          approved: answer.approved,
          ...(answer.reason ? { reason: answer.reason } : {}),
        },
      ),
    reserveStock: () =>
      call(
        inventory.reserveStock,
        forward(inventoryOptions),
        `reserve ${order.lines.map((l) => `${l.quantity}× ${l.sku}`).join(', ')}`,
        {
          ...ref('reserveStock'),
          lines: order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
        },
      ),
    allocateShipment: () =>
      call(shipping.allocateShipment, forward(shippingOptions), `allocate shipment to ${a.country}`, {
        ...ref('allocateShipment'),
        recipient: {
          name: a.name,
          address: {
            line1: a.line1,
            ...(a.line2 ? { line2: a.line2 } : {}),
            city: a.city,
            postalCode: a.postalCode,
            country: a.country,
          },
        },
      }),
    confirmOrder: () =>
      call(orders.confirmOrder, forward(ordersOptions), `confirm order ${order.orderId}`, {
        ...ref('confirmOrder'),
        customerId: order.customer.id,
        customer: { name: order.customer.name, email: order.customer.email },
        total,
      }),
    capturePayment: (options: ActivityOptions) =>
      call(payments.capturePayment, forward(options), `capture ${money}`, {
        ...ref('capturePayment'),
        authorizeKey: key('authorizePayment'),
      }),
    recordDispatch: (d: DispatchConfirmation) =>
      call(shipping.recordDispatch, forward(afterDispatchOptions), `dispatched: ${d.trackingNumber}`, {
        ...ref('awaitDispatch'),
        allocateKey: key('allocateShipment'),
        trackingNumber: d.trackingNumber,
        ...(d.carrier ? { carrier: d.carrier } : {}),
      }),
    completeOrder: (trackingNumber: string) =>
      call(orders.completeOrder, forward(afterDispatchOptions), `complete order ${order.orderId}`, {
        ...ref('completeOrder'),
        total,
        trackingNumber,
      }),
    escalateOrder: (waitingFor: 'payment' | 'dispatch', slaSeconds: number) =>
      call(orders.escalateOrder, ordersOptions, `escalate: no ${waitingFor} after ${slaSeconds} s`, {
        ...ref(`escalate-${waitingFor}`),
        waitingFor,
        slaSeconds,
      }),
    escalateUntilSent: (waitingFor: 'payment' | 'dispatch', slaSeconds: number) =>
      call(orders.escalateOrder, escalationOptions, `escalate: no ${waitingFor} after ${slaSeconds} s`, {
        ...ref(`escalate-${waitingFor}`),
        waitingFor,
        slaSeconds,
      }),

    // --- undos: each safe when its step never took effect ---
    cancelOrder: (ended: { outcome: UnfulfilledStatus; reason: string }) =>
      call(orders.cancelOrder, undoOptions, `cancel order: ${ended.outcome}`, { ...ref('cancelOrder'), ...ended }),
    voidAuthorization: () =>
      call(payments.voidAuthorization, undoOptions, `void authorization of ${money}`, {
        ...ref('voidAuthorization'),
        authorizeKey: key('authorizePayment'),
      }),
    releaseStock: () =>
      call(inventory.releaseStock, undoOptions, 'release reserved stock', {
        ...ref('releaseStock'),
        reserveKey: key('reserveStock'),
      }),
    cancelShipment: () =>
      call(shipping.cancelShipment, undoOptions, 'cancel shipment allocation', {
        ...ref('cancelShipment'),
        allocateKey: key('allocateShipment'),
      }),
    refundPayment: () =>
      call(payments.refundPayment, undoOptions, `refund ${money}`, {
        ...ref('refundPayment'),
        captureKey: key('capturePayment'),
      }),
  };
}
export type SagaParticipants = ReturnType<typeof participantsFor>;
