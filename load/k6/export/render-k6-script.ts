import { meanOf, type Scenario } from '../../../scenarios/format/index.js';
import { defaultLimits } from '../../../system/core/limits.js';
import { formatTsLiteral } from './format-ts-literal.js';
import { arrivalRateScenarioOf } from './k6-arrival-rate.js';
import { thresholdsOf } from './k6-thresholds.js';

/** File name of the protocol module the exported script imports; the exporter writes it alongside. */
export const SESSION_MODULE_FILE = 'chat-k6-session.ts';

/**
 * setup() asks the token endpoint once per user, so a million-user scenario would spend its setup
 * minting tokens: at most this many users are issued tokens unless CHAT_USERS says otherwise.
 */
export const TOKEN_USERS_MAX = 1000;

/** Extra time k6 gives iterations in flight after the traffic phase, beyond the message timeout. */
const GRACEFUL_STOP_MARGIN_S = 5;

/** The k6 `setupTimeout`: setup() issues up to TOKEN_USERS_MAX tokens one request at a time. */
const SETUP_TIMEOUT = '300s';

function messageBytesOf(scenario: Scenario): number {
  const sizes = scenario.traffic.message_bytes;
  const cap = Math.min(defaultLimits.messageBytesMax, 'max' in sizes && sizes.max !== undefined ? sizes.max : Infinity);
  return Math.max(0, Math.min(cap, Math.round(meanOf(sizes))));
}

// Text for inside the script's block comment: a star-slash in a scenario's description would end it early.
function commentText(text: string): string {
  return text.replace(/\*\//g, '* /');
}

/** The exported k6 script for a scenario: options (arrival rate, thresholds) and the lifecycle functions. */
export function renderK6Script(scenario: Scenario, source: string): string {
  const messageTimeoutMs = scenario.liveness_bound_s * 1000;
  const options = {
    setupTimeout: SETUP_TIMEOUT,
    scenarios: {
      [scenario.name]: arrivalRateScenarioOf(scenario, { gracefulStopS: scenario.liveness_bound_s + GRACEFUL_STOP_MARGIN_S }),
    },
    thresholds: thresholdsOf(scenario.slo),
  };
  const traffic = {
    users: Math.min(scenario.population.users, TOKEN_USERS_MAX),
    warmupMs: scenario.warmup_s * 1000,
    messageTimeoutMs,
    messageBytes: messageBytesOf(scenario),
    readShare: scenario.traffic.reads.share,
    contactsPerUser: scenario.population.contacts_per_user,
  };
  return `/*
 * k6 script for the chatload scenario "${scenario.name}" (${commentText(source)}, seed ${scenario.seed}).
 * Written by \`npm run k6:export\`: export again rather than edit. ${commentText(scenario.description)}
 *
 * One iteration = one 1:1 message between two virtual devices at the scenario's send rate; the
 * thresholds are the scenario's SLOs. Groups, media, churn, encryption and faults are not exported.
 *
 * Environment: CHAT_WS_URL (default ws://127.0.0.1:8080/ws), CHAT_TOKEN_URL (default the gateway's
 * /dev/token), CHAT_TOKENS_FILE or CHAT_TOKENS (pre-issued tokens instead of a token endpoint),
 * CHAT_USERS, CHAT_RUN_ID, CHAT_WARMUP_MS, CHAT_MESSAGE_TIMEOUT_MS. See load/k6/README.md.
 */
import type { Options } from 'k6/options';
import {
  chatIteration,
  chatSettingsFromEnv,
  loadPreIssuedDevices,
  setUpDevices,
  type ChatScenarioTraffic,
  type ChatSetupData,
} from './${SESSION_MODULE_FILE}';

export const options: Options = ${formatTsLiteral(options)};

const scenarioTraffic: ChatScenarioTraffic = ${formatTsLiteral(traffic)};

// open() works only in the init context, so pre-issued tokens are read here.
const preIssuedDevices = loadPreIssuedDevices();
const settings = chatSettingsFromEnv(scenarioTraffic);

export function setup(): ChatSetupData {
  return setUpDevices(settings, preIssuedDevices);
}

export default async function (data: ChatSetupData): Promise<void> {
  await chatIteration(settings, data);
}
`;
}
