// The node registry: node records in the store, the heartbeat that keeps one fresh, live nodes.
export { NodeRegistry, NODE_RECORD_PREFIX, NODE_STATES, nodeRecordKey, parseNodeRecord, type NodeRecord, type NodeRegistryOptions, type NodeState } from './node-registry.ts';
export { Heartbeat, type HeartbeatOptions } from './heartbeat.ts';
