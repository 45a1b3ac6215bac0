// The web UI in a real browser: Debian's chromium, headless, driven by playwright-core, against
// the embedded system (the querier's UI on its port, the Alertmanager's on its own).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { freePort, removeDir, ROOT, startPharos, tempDir, waitFor, type Pharos } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(ROOT, 'var/screenshots');

let pharos!: Pharos;
let amURL = '';
let browser!: Browser;
let context!: BrowserContext;
const problems: string[] = [];

/** A page whose console errors fail the suite; `badRequests` allows the 400s a bad query gets. */
async function newPage(badRequests = false): Promise<Page> {
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (badRequests && /status of 400 \(Bad Request\)/.test(m.text())) return;
    problems.push(`console: ${m.text()} (${page.url()})`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message} (${page.url()})`));
  return page;
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

before(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: tools/deps.sh installs Debian's chromium`);
  mkdirSync(SHOTS, { recursive: true });
  const dir = tempDir('pharos-web-ui-');
  writeFileSync(
    join(dir, 'rules.yml'),
    `groups:
  - name: ui
    interval: 1s
    rules:
      - alert: AlwaysFiring
        expr: vector(1)
        labels: {severity: info}
        annotations: {summary: 'It is always firing'}
`,
  );
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    `route: {receiver: 'null', group_by: [alertname], group_wait: 1s, group_interval: 1s}
receivers: [{name: 'null'}]
`,
  );
  const amPort = await freePort();
  amURL = `http://127.0.0.1:${amPort}`;
  pharos = await startPharos(
    (port) => `global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [${join(dir, 'rules.yml')}]
scrape_configs:
  - job_name: pharos
    static_configs: [{targets: ['127.0.0.1:${port}']}]
`,
    {
      dir,
      args: [
        `--alertmanager.config.file=${join(dir, 'alertmanager.yml')}`,
        `--alertmanager.listen-address=127.0.0.1:${amPort}`,
        `--alertmanager.storage.path=${join(dir, 'alertmanager')}`,
      ],
    },
  );
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Without the background-networking flags Chromium keeps dialling Google on a closed network.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Two scrapes, so a graph has a line to draw.
  await waitFor('two scrapes of itself', async () => {
    const r = await fetch(
      `${pharos.url}/api/v1/query?query=${encodeURIComponent('count_over_time(up[1m])')}`,
    );
    const b = (await r.json()) as { data: { result: Array<{ value: [number, string] }> } };
    return Number(b.data.result[0]?.value[1] ?? 0) >= 2 ? true : undefined;
  });
});

after(async () => {
  await browser?.close();
  await pharos?.proc.stop();
  if (pharos) removeDir(pharos.dir);
});

describe('web UI (chromium, headless)', () => {
  it('runs a query as a table, then plots it as a graph, and the URL reproduces the view', async () => {
    const page = await newPage();
    await page.goto(`${pharos.url}/`);
    await page.waitForURL(/\/query/);
    await page.locator('.cm-content').click();
    await page.keyboard.type('up');
    // Completion offers `up` among the metric names; Escape closes the list, Enter runs the query.
    await page.locator('.cm-tooltip-autocomplete').waitFor();
    await page.keyboard.press('Escape');
    await page.keyboard.press('Enter');
    const table = page.getByTestId('result-table');
    await table.waitFor();
    assert.match(await table.innerText(), /up\{instance="127\.0\.0\.1:\d+", job="pharos"\}\s+1/);
    await page.getByRole('tab', { name: 'Graph' }).click();
    // The system has run for seconds: a one-minute range at the automatic resolution (1 s).
    await page.getByLabel('Range', { exact: true }).fill('1m');
    await page.getByLabel('Range', { exact: true }).press('Tab');
    const graph = page.getByTestId('graph');
    await graph.locator('canvas').waitFor();
    await waitFor('one plotted series', async () =>
      (await graph.getAttribute('data-series')) === '1' ? true : undefined,
    );
    // Two scrapes so far: two points, a line between them.
    await waitFor(`points to join (${page.url()})`, async () =>
      Number(await graph.getAttribute('data-points')) >= 2 ? true : undefined,
    );
    assert.match(
      await graph.locator('.u-legend').innerText(),
      /up\{instance="127\.0\.0\.1:\d+", job="pharos"\}/,
    );
    // The line itself: pixels of the first series' colour (#1f77b4) on the canvas.
    const painted = Number(
      await graph.locator('canvas').evaluate(
        // Runs in the page, where the DOM's types are; here it is only text.
        new Function(
          'c',
          `const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
           let n = 0;
           for (let i = 0; i < px.length; i += 4)
             if (Math.abs(px[i] - 0x1f) < 40 && Math.abs(px[i + 1] - 0x77) < 40 && Math.abs(px[i + 2] - 0xb4) < 40) n++;
           return n;`,
        ) as (c: unknown) => number,
      ),
    );
    assert.ok(painted > 20, `the series is drawn (${painted} pixels of its colour)`);
    await shot(page, 'query-graph');
    const url = page.url();
    assert.match(url, /g0\.expr=up/);
    assert.match(url, /g0\.tab=graph/);
    assert.match(url, /g0\.range_input=1m/);
    const again = await newPage();
    await again.goto(url);
    await again.getByTestId('graph').locator('canvas').waitFor();
    await again.close();
    await page.close();
  });

  it("opens the ruler's generatorURL (/graph?g0.expr=…&g0.tab=1) on the table view, and shows query errors inline", async () => {
    const page = await newPage(true);
    await page.goto(`${pharos.url}/graph?g0.expr=${encodeURIComponent('vector(1)')}&g0.tab=1`);
    await page.waitForURL(/\/query\?/);
    assert.match(await page.getByTestId('result-table').innerText(), /\{\}\s+1/);
    await page.goto(`${pharos.url}/query?g0.expr=${encodeURIComponent('sum(')}&g0.tab=table`);
    assert.match(await page.getByTestId('query-error').innerText(), /bad_data: .*parse error/);
    await page.close();
  });

  it('lists the real target on Targets, and the status pages load', async () => {
    const page = await newPage();
    await page.goto(`${pharos.url}/targets`);
    const row = page.getByTestId('target-row').first();
    await row.waitFor();
    const text = await row.innerText();
    assert.match(text, new RegExp(`http://127\\.0\\.0\\.1:${pharos.port}/metrics`));
    assert.match(text, /UP/);
    await shot(page, 'targets');
    for (const [path, expect] of [
      ['/service-discovery', /pharos \(1 \/ 1 active targets\)/],
      ['/rules', /AlwaysFiring/],
      ['/alerts', /Firing \(1\)/],
      ['/tsdb-status', /Number of series/],
      ['/config', /job_name: pharos/],
      ['/flags', /web\.listen-address/],
      ['/status', /goVersion|version/],
    ] as const) {
      await page.goto(`${pharos.url}${path}`);
      await page.locator('main h1').waitFor();
      await waitFor(
        `${path} to load`,
        async () => (expect.test(await page.locator('main').innerText()) ? true : undefined),
        15_000,
        200,
      );
    }
    await page.close();
  });

  it('creates a silence from an alert in the Alertmanager UI, lists it, and expires it', async () => {
    const page = await newPage(true);
    await page.goto(`${amURL}/#/alerts`);
    const alert = page.getByTestId('am-alert').filter({ hasText: 'AlwaysFiring' });
    await alert.waitFor({ timeout: 30_000 });
    await shot(page, 'am-alerts');
    await alert.getByRole('link', { name: 'Silence' }).click();
    const form = page.getByTestId('silence-form');
    await form.waitFor();
    assert.equal(await page.getByLabel('Matcher 1 name').inputValue(), 'alertname');
    // A broken duration is refused in the form; nothing reaches the API.
    await page.locator('#duration').fill('forever');
    await page.getByRole('button', { name: 'Create' }).click();
    assert.match(await page.getByTestId('silence-error').innerText(), /invalid duration "forever"/);
    // The API's own refusal is shown too: a silence that would already be over.
    const start = await page.locator('#start').inputValue();
    await page.locator('#creator').fill('e2e');
    await page.locator('#comment').fill('quiet, please');
    await page.locator('#start').fill('2000-01-01T00:00:00Z');
    await page.locator('#duration').fill('1m');
    await page.getByRole('button', { name: 'Create' }).click();
    const refusal = await waitFor('the API refusal', async () => {
      const text = await page.getByTestId('silence-error').innerText();
      return text.startsWith('invalid duration') ? undefined : text;
    });
    assert.equal(refusal, "400: Failed to create silence: end time can't be in the past");
    await page.locator('#start').fill(start);
    await page.locator('#duration').fill('2h');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(/#\/silences$/);
    const listed = page.getByTestId('silence').filter({ hasText: 'alertname="AlwaysFiring"' });
    await listed.waitFor();
    assert.match(await listed.innerText(), /quiet, please/);
    const api = (await (await fetch(`${amURL}/api/v2/silences`)).json()) as Array<{
      status: { state: string };
      createdBy: string;
      matchers: Array<{ name: string; value: string }>;
    }>;
    const active = api.filter((s) => s.status.state === 'active');
    assert.equal(active.length, 1);
    assert.equal(active[0].createdBy, 'e2e');
    assert.ok(active[0].matchers.some((m) => m.name === 'alertname' && m.value === 'AlwaysFiring'));
    await shot(page, 'am-silences');
    await listed.getByRole('button', { name: 'Expire' }).click();
    await waitFor('the silence to be expired', async () => {
      const s = (await (await fetch(`${amURL}/api/v2/silences`)).json()) as Array<{
        status: { state: string };
      }>;
      return s.every((x) => x.status.state === 'expired') ? true : undefined;
    });
    await page.getByRole('heading', { name: 'Expired (1)' }).waitFor();
    await page.goto(`${amURL}/#/status`);
    await page.getByText('Cluster status').waitFor();
    await page.close();
  });

  it('fits a narrow screen and switches to the dark theme', async () => {
    const narrow = await browser.newContext({ viewport: { width: 380, height: 800 } });
    const page = await narrow.newPage();
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(`${pharos.url}/query?g0.expr=up&g0.tab=graph`);
    await page.getByTestId('graph').locator('canvas').waitFor();
    await page.getByTestId('theme-toggle').click();
    assert.equal(await page.evaluate('document.documentElement.dataset.theme'), 'dark');
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
    assert.ok(overflow <= 1, `no sideways scrolling on a narrow screen (${overflow}px too wide)`);
    await shot(page, 'narrow-dark');
    await narrow.close();
  });

  it('logged no console errors', () => {
    assert.deepEqual(problems, []);
  });
});

/** GET with the path exactly as written: fetch() would resolve the dot segments first. */
function rawGet(base: string, path: string): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('asset paths that climb out of /assets/', () => {
  const paths = [
    '/assets/..',
    '/assets/../',
    '/assets/../index.html',
    '/assets/%2e%2e',
    '/assets/%2E%2E/',
    '/assets/.%2e/',
    '/assets/..%2f..%2fetc%2fpasswd',
    '/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/assets/..%5c..%5c',
  ];
  it('answer 403 or 404 on both UIs, and log no error', async () => {
    const logged = pharos.proc.stderr.length;
    for (const base of [pharos.url, amURL]) {
      for (const path of paths) {
        const status = await rawGet(base, path);
        assert.ok(status === 403 || status === 404, `${base}${path}: ${status}`);
      }
    }
    const errors = pharos.proc.stderr
      .slice(logged)
      .split('\n')
      .filter((l) => l.includes('"level":"error"'));
    assert.deepEqual(errors, []);
  });
});
