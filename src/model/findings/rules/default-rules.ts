// The default set of findings rules, built with the threshold table (or overrides of it).

import { resolveThresholds, type FindingThresholdOverrides } from '../thresholds.js';
import type { FindingRule } from '../types.js';
import { acceptQueueRule } from './accept-queue.js';
import { closeWaitRule } from './close-wait.js';
import { finWait2Rule } from './fin-wait2.js';
import { resetRule } from './resets.js';
import { retransmitRule } from './retransmits.js';
import { synRecvRule } from './syn-recv.js';
import { timeWaitRule } from './time-wait.js';

/** The seven rules with the given thresholds (defaults for anything not overridden). */
export function createDefaultRules(overrides: FindingThresholdOverrides = {}): readonly FindingRule[] {
  const t = resolveThresholds(overrides);
  return [
    acceptQueueRule(t.acceptQueue),
    closeWaitRule(t.closeWait),
    synRecvRule(t.synRecv),
    timeWaitRule(t.timeWait),
    finWait2Rule(t.finWait2),
    resetRule(t.resets),
    retransmitRule(t.retransmits),
  ];
}

export const DEFAULT_RULES: readonly FindingRule[] = createDefaultRules();
