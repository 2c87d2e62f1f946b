/** Where the SLO rule files live; imported by the local Prometheus (infra/local/prometheus.ts) too. */
import { fileURLToPath } from 'node:url';

export const ALERTS_DIR = fileURLToPath(new URL('.', import.meta.url));

/** The rule file Prometheus loads (compose and `npm run services`); generated, never edited by hand. */
export const SLO_RULES_PATH = fileURLToPath(new URL('./slo-rules.yml', import.meta.url));

/** promtool's unit tests of the rules, written by hand so that they check the generator rather than repeat it. */
export const SLO_RULES_TESTS_PATH = fileURLToPath(new URL('./slo-rules.test.yml', import.meta.url));
