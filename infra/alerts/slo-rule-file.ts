/**
 * Builds the Prometheus rule file for the SLOs: per SLO, its error ratio recorded over every
 * window of the burn-rate policy, its error budget, and two alerts (fast burn pages, slow burn
 * opens a ticket). Pure; write-rules.ts writes the result to slo-rules.yml.
 */
import { stringify } from 'yaml';
import {
  BURN_RATE_CONDITIONS,
  LONG_WINDOW_EVALUATION_INTERVAL,
  LONG_WINDOWS,
  RECORDED_WINDOWS,
  SLO_PERIOD_DAYS,
  type BurnRateCondition,
  type Severity,
} from './burn-rate-policy.js';
import { SERVICE_LEVEL_OBJECTIVES, type ServiceLevelObjective } from './slo-objectives.js';

/** Recorded series names (level:metric:operations); every one carries an `slo` label. */
export const errorRatioRecord = (window: string) => `chat_slo:error_ratio:rate${window}`;
export const ERROR_BUDGET_RECORD = 'chat_slo:error_budget:ratio';
/** For time SLIs: 1 while the objective is missed, 0 otherwise, one sample per evaluation. */
export const OBJECTIVE_MISSED_RECORD = 'chat_slo:objective_missed:bool';

/** Where the alert annotations send the reader. */
const RUNBOOK = 'docs/slo-alerts.md';

interface RecordingRule {
  record: string;
  expr: string;
  labels: Record<string, string>;
}

interface AlertingRule {
  alert: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

interface RuleGroup {
  name: string;
  interval?: string;
  rules: Array<RecordingRule | AlertingRule>;
}

/** 1 − objective without binary floating-point noise (1 − 0.99 is 0.010000000000000009). */
export function errorBudget(slo: ServiceLevelObjective): number {
  return Number((1 - slo.objective).toFixed(9));
}

function errorRatioExpr(slo: ServiceLevelObjective, window: string): string {
  const { sli } = slo;
  if (sli.kind === 'events') return `${sli.badEventsRate(window)} / ${sli.totalEventsRate(window)}`;
  return `avg_over_time(${OBJECTIVE_MISSED_RECORD}{slo="${slo.name}"}[${window}])`;
}

function recordingRules(slo: ServiceLevelObjective, windows: readonly string[]): RecordingRule[] {
  const labels = { slo: slo.name };
  return windows.map((window) => ({ record: errorRatioRecord(window), expr: errorRatioExpr(slo, window), labels }));
}

function burnCondition(slo: ServiceLevelObjective, condition: BurnRateCondition): string {
  const threshold = `(${condition.burnRate} * ${errorBudget(slo)})`;
  const ratio = (window: string) => `${errorRatioRecord(window)}{slo="${slo.name}"} > ${threshold}`;
  return `(\n  ${ratio(condition.longWindow)}\nand\n  ${ratio(condition.shortWindow)}\n)`;
}

function alertingRule(slo: ServiceLevelObjective, severity: Severity): AlertingRule {
  const conditions = BURN_RATE_CONDITIONS.filter((c) => c.severity === severity);
  const budgetPercent = `${errorBudget(slo) * 100}%`;
  const when = conditions.map((c) => `${c.burnRate}× the budget over ${c.longWindow} and ${c.shortWindow}`).join(', or ');
  return {
    alert: `${slo.alertStem}${severity === 'page' ? 'FastBurn' : 'SlowBurn'}`,
    expr: conditions.map((c) => burnCondition(slo, c)).join('\nor\n'),
    labels: { severity, slo: slo.name },
    annotations: {
      // $value: the long window's error ratio of the condition that fired (the first, if both did).
      summary: `${slo.name}: error budget burning ${severity === 'page' ? 'fast' : 'slowly'}, {{ $value | humanizePercentage }} bad against a budget of ${budgetPercent}`,
      description: `Objective over ${SLO_PERIOD_DAYS} days: ${slo.promise}. Fires when the error ratio passes ${when}.`,
      runbook: `${RUNBOOK}, section ${slo.name}`,
    },
  };
}

export function sloRuleGroups(objectives: readonly ServiceLevelObjective[] = SERVICE_LEVEL_OBJECTIVES): RuleGroup[] {
  const shortWindows = RECORDED_WINDOWS.filter((w) => !LONG_WINDOWS.includes(w));
  const sliRules: RecordingRule[] = [];
  for (const slo of objectives) {
    if (slo.sli.kind === 'time') sliRules.push({ record: OBJECTIVE_MISSED_RECORD, expr: slo.sli.badNow, labels: { slo: slo.name } });
    sliRules.push({ record: ERROR_BUDGET_RECORD, expr: `vector(${errorBudget(slo)})`, labels: { slo: slo.name } });
    sliRules.push(...recordingRules(slo, shortWindows));
  }
  // One group, in order: the objectives' signals, the error ratios of every window, then the
  // alerts that read them. Rules of one group are evaluated in order at each step; groups are not
  // ordered against each other, and with the alerts in a group of their own promtool's unit tests
  // saw an alert's value one evaluation stale in some runs and not in others. The whole group runs
  // at the long windows' interval: a 1 m step is fine-grained enough for burn rates over 5 m or more.
  const alerts = objectives.flatMap((slo) => [alertingRule(slo, 'page'), alertingRule(slo, 'ticket')]);
  const longRatios = objectives.flatMap((slo) => recordingRules(slo, LONG_WINDOWS));
  return [{ name: 'chat-slo', interval: LONG_WINDOW_EVALUATION_INTERVAL, rules: [...sliRules, ...longRatios, ...alerts] }];
}

/** The rule file's text, as committed in slo-rules.yml. */
export function sloRuleFileText(): string {
  const header = [
    '# Generated by infra/alerts/write-rules.ts from slo-objectives.ts and burn-rate-policy.ts:',
    '# edit those and run `npm run alerts:write`. Tested by `npm run alerts:test` (promtool).',
    '',
  ].join('\n');
  return header + stringify({ groups: sloRuleGroups() }, { lineWidth: 0, aliasDuplicateObjects: false });
}
