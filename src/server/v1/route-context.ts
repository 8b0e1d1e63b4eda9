// What every v1 route module is given: the node's services and the body limits.
import type { NodeServices } from '../node-services.ts';

export interface RouteLimits {
  readonly bodyBytes: number;
  readonly batchBodyBytes: number;
  readonly batchConcurrency: number;
  /** The largest backup carried inline by VSSM's generatebackup / restorebackup. */
  readonly inlineBackupBytes: number;
}

export interface RouteContext {
  readonly services: NodeServices;
  readonly limits: RouteLimits;
}
