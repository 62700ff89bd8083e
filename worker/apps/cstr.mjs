#!/usr/bin/env node
// Sample application for the `command` engine: the steady state of a continuous stirred-tank
// reactor with a first-order, exothermic reaction A → B (Arrhenius kinetics). Reads the job as
// JSON on stdin, prints FOQUS-shaped output JSON on stdout, exits 1 with a message on bad input.
//
// Input (all optional but T): T reactor temperature [K], tau residence time [min],
// CA0 feed concentration [mol/L], q flow [L/min], k0 pre-exponential factor [1/min],
// EaR activation energy over R [K], dH heat of reaction [J/mol].
const R = 8.314;
const defaults = { tau: 1, CA0: 1, q: 100, k0: 7.2e10, EaR: 8750, dH: -5e4 };

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

let raw = "";
process.stdin.on("data", (chunk) => {
  raw += chunk;
});
process.stdin.on("end", () => {
  const started = process.hrtime.bigint();
  const job = JSON.parse(raw || "{}");
  const input = { ...defaults, ...(job.input ?? {}) };
  for (const [name, value] of Object.entries(input)) {
    if (typeof value !== "number" || !Number.isFinite(value))
      fail(`Input ${name} must be a number, got ${JSON.stringify(value)}.`);
  }
  if (input.T === undefined) fail("Input T (reactor temperature in K) is required.");
  if (input.T <= 0 || input.tau <= 0 || input.CA0 < 0 || input.q <= 0)
    fail("T, tau and q must be positive and CA0 not negative.");

  const k = input.k0 * Math.exp(-input.EaR / input.T); // rate constant [1/min]
  const X = (k * input.tau) / (1 + k * input.tau); // conversion of A
  const CA = input.CA0 * (1 - X);
  const CB = input.CA0 * X;
  const volume = input.q * input.tau; // [L]
  const rate = k * CA; // [mol/(L·min)]
  const heatKw = (-input.dH * rate * volume) / 60 / 1000; // heat released [kW]
  const output = {
    k,
    X,
    CA,
    CB,
    V: volume,
    rate,
    Q: heatKw,
    Ea: input.EaR * R,
  };
  const solTime = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(
    JSON.stringify({ input, output, graphError: 0, nodeError: {}, turbineMessages: {}, solTime }),
  );
});
