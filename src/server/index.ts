// The server layer's public surface: the node, the app factories, configuration and startNode.
export { CofferNode, DOMAIN_DESCRIPTOR_KEY, type CofferNodeOptions, type NodeStatus } from './coffer-node.ts';
export { createApp, type AppOptions } from './app.ts';
export { createHealthApp } from './health-app.ts';
export { CONFIG_DEFAULTS, ENV_OVERRIDES, loadConfig, parseConfig, type ServerConfig } from './config.ts';
export { startNode, type RunningNode, type StartOptions } from './main.ts';
export { prepareRestoreFromBackup, RESTORE_PRINCIPAL, type PendingRestore } from './restore-from-backup.ts';
export { NodeServices, principalDirectoryFactory, type DirectoryFactory } from './node-services.ts';
export { BOOTSTRAP_OFFICER_KEY } from './bootstrap-officer.ts';
