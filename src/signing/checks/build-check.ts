// Turns a parsed spec into its Check: the one place that maps a kind to its implementation.
import { allowedBranchesCheck, allowedSubmittersCheck, fileTypeCheck, maxSizeCheck, requiredMetadataCheck } from './builtin-checks.ts';
import type { CheckSpec } from './check-spec.ts';
import type { Check } from './check-types.ts';
import { commandCheck, type CommandCheckOptions } from './command-check.ts';

export type BuildCheckOptions = CommandCheckOptions;

export function buildCheck(spec: CheckSpec, options: BuildCheckOptions = {}): Check {
  switch (spec.kind) {
    case 'maxSize': return maxSizeCheck(spec);
    case 'fileType': return fileTypeCheck(spec);
    case 'requiredMetadata': return requiredMetadataCheck(spec);
    case 'allowedSubmitters': return allowedSubmittersCheck(spec);
    case 'allowedBranches': return allowedBranchesCheck(spec);
    case 'command': return commandCheck(spec, options);
  }
}
