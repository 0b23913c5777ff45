/** The workflows the saga worker registers. */
export { orderFulfillment } from './order-fulfillment';
