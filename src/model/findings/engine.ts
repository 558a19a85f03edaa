// The findings engine: runs every rule on each snapshot, remembers each rule's summaries in a
// bounded ring (memory stays flat), keeps per finding the first time its condition held
// (sinceMs), and keeps a finding whose condition stopped holding for a hold-down time, so a
// flapping condition neither blinks nor loses its age. Pure: time is the snapshot's takenAtMs.

import { DEFAULT_RULES } from './rules/default-rules.js';
import { RULE_INFO, SEVERITY_RANK, bySeverity, type Finding, type FindingRule, type FindingsInput } from './types.js';

export interface FindingsEngineOptions {
  /** How long a finding stays after its condition stopped holding, ms of snapshot time. */
  readonly holdDownMs: number;
  /** Summaries remembered per rule (snapshots). */
  readonly historyLength: number;
  /** At most this many findings per rule per snapshot (the most severe first). */
  readonly maxPerRule: number;
}

export const DEFAULT_FINDINGS_OPTIONS: FindingsEngineOptions = { holdDownMs: 10_000, historyLength: 60, maxPerRule: 10 };

export class FindingsEngine {
  readonly options: FindingsEngineOptions;
  private readonly rules: readonly FindingRule[];
  /** One ring of summaries per rule, by rule index. */
  private readonly histories: unknown[][];
  private readonly active = new Map<string, Finding>();

  constructor(rules: readonly FindingRule[] = DEFAULT_RULES, options: Partial<FindingsEngineOptions> = {}) {
    this.rules = rules;
    this.options = { ...DEFAULT_FINDINGS_OPTIONS, ...options };
    this.histories = rules.map(() => []);
  }

  /**
   * Evaluate every rule on this snapshot. Returns the current findings, the most severe first,
   * then the oldest; findings whose condition stopped holding less than holdDownMs ago are kept
   * with `holding: false`.
   */
  update(input: FindingsInput): Finding[] {
    const nowMs = input.snapshot.takenAtMs;
    const raised = new Set<string>();
    this.rules.forEach((rule, i) => {
      const history = this.histories[i] as unknown[];
      if (rule.summarize !== undefined) {
        history.push(rule.summarize(input, history));
        if (history.length > this.options.historyLength) history.splice(0, history.length - this.options.historyLength);
      }
      // Most severe first, then by key: which findings pass maxPerRule does not depend on the order
      // a rule met its groups in (the session's aggregates keep their own order).
      const raw = rule
        .evaluate(input, history)
        .sort((x, y) => bySeverity(x, y) || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
        .slice(0, this.options.maxPerRule);
      for (const r of raw) {
        const id = `${rule.id}:${r.key}`;
        if (raised.has(id)) continue;
        raised.add(id);
        const prev = this.active.get(id);
        this.active.set(id, {
          ...r,
          id,
          rule: rule.id,
          state: RULE_INFO[rule.id].state,
          sinceMs: prev?.sinceMs ?? nowMs,
          lastHeldMs: nowMs,
          holding: true,
        });
      }
    });
    for (const [id, f] of this.active) {
      if (raised.has(id)) continue;
      if (nowMs - f.lastHeldMs >= this.options.holdDownMs) this.active.delete(id);
      else if (f.holding) this.active.set(id, { ...f, holding: false });
    }
    return this.current();
  }

  /** The findings of the last update, without evaluating again. */
  current(): Finding[] {
    return [...this.active.values()].sort(
      (a, b) =>
        SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
        Number(b.holding) - Number(a.holding) ||
        a.sinceMs - b.sinceMs ||
        a.id.localeCompare(b.id),
    );
  }

  /** Forget everything (e.g. when switching network namespace). */
  reset(): void {
    this.active.clear();
    for (const h of this.histories) h.length = 0;
  }

  /** Objects held, for soak tests (must stay flat). */
  size(): { findings: number; historySamples: number } {
    return { findings: this.active.size, historySamples: this.histories.reduce((n, h) => n + h.length, 0) };
  }
}
