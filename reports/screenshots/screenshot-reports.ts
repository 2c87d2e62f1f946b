/**
 * `npm run reports:screenshots`: renders HTML reports (load, sim, chaos) in headless Chromium and
 * saves a full-page PNG of each, to look at the charts as a reader's browser draws them.
 *
 *   npm run reports:screenshots -- out/load-ci.html out/sim-smoke.html [--out-dir out/screenshots] [--width 1280]
 *
 * Chromium: CHROMIUM_PATH, else the first of /usr/bin/chromium-headless-shell, /usr/bin/chromium
 * (Debian: `apt-get install chromium-headless-shell`). A page that logs a script error, or whose
 * charts did not render (no <svg>), is reported and makes the exit code 1; 3 when Chromium or a
 * report cannot be found.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const COULD_NOT_RUN = 3;
const CHROMIUM_CANDIDATES = ['/usr/bin/chromium-headless-shell', '/usr/bin/chromium'];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'out-dir': { type: 'string', default: join('out', 'screenshots') },
    width: { type: 'string', default: '1280' },
  },
});

function couldNotRun(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(COULD_NOT_RUN);
}

if (positionals.length === 0) couldNotRun('usage: npm run reports:screenshots -- REPORT.html... [--out-dir DIR] [--width PX]');
for (const report of positionals) if (!existsSync(report)) couldNotRun(`no report at ${report}`);
const executablePath = process.env.CHROMIUM_PATH ?? CHROMIUM_CANDIDATES.find((path) => existsSync(path));
if (!executablePath) couldNotRun(`no Chromium found (set CHROMIUM_PATH, or install Debian's chromium-headless-shell): looked at ${CHROMIUM_CANDIDATES.join(', ')}`);
const width = Number(values.width);
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
process.exit(failed > 0 ? 1 : 0);
