/** The orders module's public surface: the module factory, the service types, the platform parsers. */
export {
  ORDERS_CATCH_UP_JOB,
  createOrdersModule,
  type OrdersDeps,
  type OrdersModule,
} from './orders.module.ts';
export { orderEventReader, type OrderEventPage, type StoredOrderEvent } from './order-events.ts';
export {
  CANCELLABLE_STATUSES,
  DEFAULT_ORDER_RETENTION_DAYS,
  ORDER_EMAIL_NAMESPACE,
  TAX_HOLD_STATUSES,
  createOrdersService,
  type OrderEvent,
  type OrdersService,
  type VerifiedOrder,
} from './orders.service.ts';
export {
  ORDER_PLATFORMS,
  isWholeOrderTopic,
  normaliseEmail,
  normaliseRef,
  parsePlatformWebhook,
  type OrderPlatform,
} from './platforms.ts';
export {
  ORDER_STATUSES,
  ORDER_SOURCES,
  ordersMigrations,
  createOrderStore,
  type OrderStatus,
} from './store.ts';
