// The change follower: the store's change feed turned into cache invalidations on this node.
export { ChangeFollower, type ChangeFollowerOptions } from './change-follower.ts';
export { invalidationDispatcher, recordKindOf, RECORD_KINDS, type InvalidationTargets } from './invalidation-router.ts';
