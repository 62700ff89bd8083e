/**
 * The web console in headless Chromium (Debian's `chromium`, driven by playwright-core; no
 * browser download) against the local stack with a real worker: sign in, the sessions list, a
 * session's progress, chart, errors by class, paged and filtered jobs, the CSV download and
 * "retry failed", the simulations page with a FOQUS session upload, the account page; and no
 * credential left in the browser's storage. A screenshot of each page goes to test-results/.
 * Skipped with the reason where Chromium is absent (CHROMIUM_REQUIRED=1 fails instead).
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import test from "ava";
import { type Browser, chromium, type Page } from "playwright-core";
import { api, newUser, startUpdateProcessor, stopAll, type TestUser, uniqueName } from "../helpers/stack.ts";
import { clearJobQueues, startWorker, type TestWorker } from "../helpers/workers.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = fileURLToPath(new URL("../../test-results/", import.meta.url));
const FLOWSHEET = fileURLToPath(new URL("../../worker/apps/flowsheets/mix-scale.foqus", import.meta.url));
const JOBS = 60;
const FAILING = 5;

const available = existsSync(CHROMIUM);
if (!available) {
  const reason = `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
  if (process.env.CHROMIUM_REQUIRED === "1")
    test("Chromium is available (CHROMIUM_REQUIRED=1)", (t) => t.fail(reason));
  else console.log(`console tests skipped: ${reason}`);
}
const browserTest = available ? test.serial : test.skip;

let browser: Browser | undefined;
const workers: TestWorker[] = [];
test.before(async () => {
  if (!available) return;
  await clearJobQueues();
  await startUpdateProcessor();
  workers.push(startWorker({ WORKER_CONCURRENCY: "4" }));
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
});
test.after.always(async () => {
  await browser?.close();
  await Promise.all(workers.map((w) => w.stop("SIGKILL")));
  await stopAll();
});

/** A session of JOBS jobs, FAILING of them failing, run to the end. */
async function finishedSession(user: TestUser) {
  const sim = uniqueName("sim");
  await user.client.putSimulation(sim, "fake");
  const sid = await user.client.createSession();
  await user.client.append(
    sid,
    Array.from({ length: JOBS }, (_, i) => ({
      Simulation: sim,
      Input: { x: i, delayMs: (i * 37) % 400, ...(i % 12 === 5 ? { fail: true } : {}) },
    })),
  );
  await user.client.start(sid);
  const deadline = Date.now() + 120_000;
  while ((await user.client.sessionSummary(sid)).Finished < JOBS) {
    if (Date.now() > deadline) throw new Error("the session's jobs never finished");
    await sleep(250);
  }
  return { sim, sid };
}

async function signIn(page: Page, user: TestUser) {
  const { url } = await api();
  await page.goto(`${url}/console`);
  await page.locator("#username").waitFor();
  await page.screenshot({ path: `${SHOTS}console-login.png` });
  await page.fill("#username", user.username);
  await page.fill("#password", user.password);
  await page.click("#signin");
}

browserTest(
  "sign in, see a session's progress and results, download CSV, retry the failed jobs",
  async (t) => {
    const user = await newUser();
    const { sim, sid } = await finishedSession(user);
    const waiting = await user.client.createSession();
    await user.client.append(waiting, [{ Simulation: sim, Input: { x: 1 } }]);
    const context = await browser!.newContext({
      acceptDownloads: true,
      viewport: { width: 1280, height: 1000 },
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(error.message));

    // A wrong password is refused on the page, and nothing is signed in.
    const { url } = await api();
    await page.goto(`${url}/console`);
    await page.fill("#username", user.username);
    await page.fill("#password", "wrong");
    await page.click("#signin");
    await page.locator("#login-error", { hasText: "Sign-in failed" }).waitFor();

    await signIn(page, user);
    const row = page.locator(`#sessions tr[data-session="${sid}"]`);
    await row.waitFor();
    t.is(await row.locator("td.num").textContent(), `${JOBS}/${JOBS}`);
    t.is(await page.locator(`#sessions tr[data-session="${waiting}"] td.num`).textContent(), "0/1");
    t.regex((await row.textContent()) ?? "", new RegExp(`success ${JOBS - FAILING}, error ${FAILING}`));
    await page.screenshot({ path: `${SHOTS}console-sessions.png`, fullPage: true });

    await row.locator("a").click();
    await page.locator("#finished-count", { hasText: `${JOBS} / ${JOBS}` }).waitFor();
    await page.locator("#results-count", { hasText: String(JOBS) }).waitFor();
    t.is(await page.locator("#chart").getAttribute("data-points"), String(JOBS));
    const model = page.locator('#errors tr[data-error-class="model"]');
    t.is(await model.locator("td.num").textContent(), String(FAILING));
    t.regex((await model.textContent()) ?? "", /failed this job on purpose/);
    await page.locator("#jobs-page", { hasText: "page 1" }).waitFor();
    t.is(await page.locator("#jobs tbody tr").count(), 50);
    t.true(await page.locator("#jobs-next").isEnabled());
    await page.screenshot({ path: `${SHOTS}console-session.png`, fullPage: true });
    await page.screenshot({ path: `${SHOTS}console-session-top.png` }); // docs/console.png

    // The second page holds the rest; the state filter shows only failed jobs.
    await page.click("#jobs-next");
    await page.locator("#jobs-page", { hasText: "page 2" }).waitFor();
    t.is(await page.locator("#jobs tbody tr").count(), JOBS - 50);
    await page.selectOption("#state-filter", "error");
    // The page's CSP forbids evaluated strings (waitForFunction); wait on the DOM instead.
    await page.locator('#jobs tbody tr:not([data-state="error"])').first().waitFor({ state: "detached" });
    t.is(await page.locator("#jobs tbody tr").count(), FAILING);

    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-csv")]);
    const csv = readFileSync((await download.path())!, "utf8")
      .trimEnd()
      .split("\n");
    t.is(download.suggestedFilename(), `${sid}.csv`);
    t.is(csv.length, JOBS + 1);
    t.regex(csv[0] ?? "", /^x,delayMs,fail,output\.x,output\.delayMs,State,graphError,Message$/);
    t.is(csv.filter((line) => line.includes(",error,")).length, FAILING);
    // One row per job: every input once (these jobs carry no CLI row ids, so their order within
    // the append is the ids').
    t.deepEqual(
      csv
        .slice(1)
        .map((line) => Number(line.split(",")[0]))
        .sort((a, b) => a - b),
      Array.from({ length: JOBS }, (_, i) => i),
    );

    await page.click("#retry-failed");
    await page.locator("#toast", { hasText: `Appended ${FAILING} failed jobs again` }).waitFor();
    // Counted from the listing: the summary counts state by state, so while the retried jobs
    // move it can count one of them in two states (core/sessions/session-summary.ts).
    const deadline = Date.now() + 60_000;
    let listed = (await user.client.jobs(sid)).length;
    while (listed < JOBS + FAILING && Date.now() < deadline) {
      await sleep(250);
      listed = (await user.client.jobs(sid)).length;
    }
    t.is(listed, JOBS + FAILING);

    // Nothing of the credentials is kept by the browser, and a reload signs out.
    t.deepEqual(await page.evaluate("[localStorage.length, sessionStorage.length, document.cookie]"), [
      0,
      0,
      "",
    ]);
    await page.reload();
    await page.locator("#username").waitFor();
    t.deepEqual(problems, []);
    await context.close();
  },
);

browserTest("the simulations page uploads a FOQUS session; the account page shows the plan", async (t) => {
  const user = await newUser({ plan: "premium" });
  await user.client.putSimulation(uniqueName("sim"), "fake");
  const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await signIn(page, user);
  await page.locator("#sessions").waitFor();

  await page.click('a[data-nav="simulations"]');
  await page.locator("#foqus-form").waitFor();
  const name = uniqueName("mixscale");
  await page.fill("#foqus-name", name);
  await page.setInputFiles("#foqus-file", FLOWSHEET);
  await page.click('#foqus-form button[type="submit"]');
  const row = page.locator(`#simulations tr[data-simulation="${name}"]`);
  await row.waitFor();
  t.regex((await row.textContent()) ?? "", /foqus.*configuration/);
  t.like(await user.client.simulation(name), { Application: "foqus", StagedInputs: ["configuration"] });
  t.deepEqual(
    await (await user.call("GET", `/simulation/${name}/input/configuration`)).text(),
    readFileSync(FLOWSHEET, "utf8"),
  );
  await page.screenshot({ path: `${SHOTS}console-simulations.png`, fullPage: true });

  await page.click('a[data-nav="account"]');
  await page.locator("#plan", { hasText: "premium" }).waitFor();
  t.is(await page.locator("#plan").textContent(), "premium");
  await page.screenshot({ path: `${SHOTS}console-account.png`, fullPage: true });
  await context.close();
});
