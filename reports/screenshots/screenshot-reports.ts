/**
 * `npm run reports:screenshots`: renders HTML reports (load, sim, chaos) in headless Chromium and
 * saves a full-page PNG of each, to look at the charts as a reader's browser draws them.
 * Options, Chromium and exit codes: `npm run reports:screenshots -- --help`.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { ExitCodes } from '../../checker/run-summary.js';
import { defineCommand } from '../../cli/command-spec.js';
import { runCommand } from '../../cli/run-command.js';
import { ToolError } from '../../cli/tool-error.js';

const CHROMIUM_CANDIDATES = ['/usr/bin/chromium-headless-shell', '/usr/bin/chromium'];

/** Stable codes of `npm run reports:screenshots` (cli/README.md); each exits 3. */
const ScreenshotErrorCodes = {
  BAD_ARGUMENTS: 'SCREENSHOTS_BAD_ARGUMENTS',
  NO_REPORT: 'SCREENSHOTS_NO_REPORT',
  NO_CHROMIUM: 'SCREENSHOTS_NO_CHROMIUM',
} as const;

const command = defineCommand({
  name: 'reports:screenshots',
  purpose:
    "renders HTML reports in headless Chromium and saves a full-page PNG of each, to see the charts as a reader's browser draws them",
  positionals: [{ name: 'report.html', description: 'reports written with --html (load, sim, chaos, capacity)', variadic: true }],
  options: {
    'out-dir': { type: 'string', default: join('out', 'screenshots'), placeholder: 'DIR', description: 'where the PNGs go' },
    width: { type: 'number', integer: true, min: 1, default: 1280, placeholder: 'PX', description: 'viewport width' },
  },
  exitCodes: [
    { code: ExitCodes.OK, meaning: 'every page rendered its charts without a script error' },
    { code: ExitCodes.INVARIANT_VIOLATED, meaning: 'a page logged a script error or drew no chart (<svg>); each is named' },
    { code: ExitCodes.COULD_NOT_RUN, meaning: 'bad arguments, a report or Chromium not found' },
  ],
  badArgumentsCode: ScreenshotErrorCodes.BAD_ARGUMENTS,
  notes: [
    'Chromium: CHROMIUM_PATH, else the first of /usr/bin/chromium-headless-shell, /usr/bin/chromium (Debian: apt-get install chromium-headless-shell).',
  ],
});

await runCommand(command, async ({ values, positionals }) => {
  for (const report of positionals) if (!existsSync(report)) throw new ToolError(ScreenshotErrorCodes.NO_REPORT, `no report at ${report}`);
  const executablePath = process.env.CHROMIUM_PATH ?? CHROMIUM_CANDIDATES.find((path) => existsSync(path));
  if (!executablePath) {
    throw new ToolError(ScreenshotErrorCodes.NO_CHROMIUM, `no Chromium found: looked at ${CHROMIUM_CANDIDATES.join(', ')}`, {
      hint: "set CHROMIUM_PATH, or install Debian's chromium-headless-shell",
    });
  }
  const width = values.width;
  mkdirSync(values['out-dir'], { recursive: true });

  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  let failed = 0;
  try {
    for (const report of positionals) {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      const scriptErrors: string[] = [];
      page.on('pageerror', (error) => scriptErrors.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') scriptErrors.push(message.text());
      });
      await page.goto(pathToFileURL(resolve(report)).href, { waitUntil: 'load' });
      const charts = await page.locator('svg').count();
      const png = join(values['out-dir'], `${basename(report, extname(report))}.png`);
      await page.screenshot({ path: png, fullPage: true });
      await page.close();
      const problems = [...scriptErrors.map((e) => `script error: ${e}`), ...(charts === 0 ? ['no chart (<svg>) on the page'] : [])];
      process.stdout.write(`${report} → ${png}: ${charts} charts${problems.length ? `; ${problems.join('; ')}` : ''}\n`);
      if (problems.length > 0) failed++;
    }
  } finally {
    await browser.close();
  }
  return failed > 0 ? ExitCodes.INVARIANT_VIOLATED : ExitCodes.OK;
});
