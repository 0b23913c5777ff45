import type { ConsumerContract } from '../events/consumer-contracts';
import { notificationsContract } from './notifications/contract';
import { orderViewContract } from './order-view/contract';

/** Every consumer's declared reads: `npm run events:check` holds the producers to all of them. */
export const consumerContracts: readonly ConsumerContract[] = [notificationsContract, orderViewContract];
