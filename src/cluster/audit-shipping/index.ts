// Audit shipping: the node's local journal copied, in order and exactly once, to the shared store.
export {
  AuditShipper, AUDIT_CURSOR_PREFIX, AUDIT_PREFIX, auditCheckpointKey, auditCursorKey, auditEntryKey,
  type AuditShipperOptions, type ShipperState, type ShippingCursor,
} from './audit-shipper.ts';
export { readLines, type TailLine } from './journal-tail.ts';
