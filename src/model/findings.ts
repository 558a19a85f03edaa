// evaluate*: a small rules engine that turns snapshots, counter rates and sysctls into findings
// in plain language ("the application is not closing sockets"), each with a filter expression
// that shows the sockets concerned. Pure: time is the snapshot's takenAtMs, never Date.now().
//
// Rules are data: an id, an optional per-snapshot summary the engine remembers (a bounded ring,
// so memory stays flat) and an evaluate function. Thresholds live in one table,
// DEFAULT_FINDING_THRESHOLDS; createDefaultRules(overrides) builds the rules with other values.
// The engine keeps, per finding, the first time its condition held (sinceMs) and keeps a finding
// whose condition stopped holding for a hold-down time, so a flapping condition neither blinks
// nor loses its age.
//
// The parts: findings/types.ts (what rules see and report), findings/thresholds.ts (the table),
// findings/rules/*.ts (one file per rule, shared.ts for their helpers), findings/engine.ts.

export { RULE_INFO, type Finding, type FindingRule, type Severity } from './findings/types.js';
export { DEFAULT_FINDING_THRESHOLDS, type FindingThresholdOverrides } from './findings/thresholds.js';
export { createDefaultRules } from './findings/rules/default-rules.js';
export { FindingsEngine, type FindingsEngineOptions } from './findings/engine.js';
