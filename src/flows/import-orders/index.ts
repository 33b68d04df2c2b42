/** Importing a shop's order history (CSV exports) through the consent ledger and the ingestion pipeline. */
export {
  createOrderImport,
  type ImportConsent,
  type ImportIngest,
  type ImportOrdersDeps,
  type ImportOrdersOptions,
  type ImportOrdersSummary,
  type OrderImport,
} from './import-orders.flow.ts';
export {
  ONLINE_RETAIL_COLUMNS,
  parseOnlineRetailRow,
  readOnlineRetailOrders,
  type ImportProgress,
  type ImportedOrder,
  type ImportedOrderItem,
  type RowRejection,
} from './online-retail.ts';
