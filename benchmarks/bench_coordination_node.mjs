// Node.js side of benchmarks/bench_coordination.py: times the Node.js tool's refresh algorithm on the
// same generated log, on the same machine.
//
//   node bench_coordination_node.mjs <log.jsonl> <agents> [<runs>]
//
// When WAVE_NODE_TOOL points at the Node.js tool (a checkout, or the npm package
// @chllming/wave-orchestration that bench_coordination.py installs), its own modules do the work: the
// coordination store reads and materializes, and its board, shared-summary and inbox compilers (with
// the routing module's helper assignments) build the projections. Otherwise this file re-implements the tool's algorithm as
// spec/coordination.md §6.1-6.2 and §6.5 describe it (parse and normalize every line, sort by
// updatedAt then id, fold by id, then filter the whole state again for the shared summary, the board
// and each inbox), and says so in its output: an approximation of the tool, not the tool.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [logPath, agentsArg, runsArg] = process.argv.slice(2);
const agents = Number(agentsArg || 64);
const runs = Number(runsArg || 3);
const KINDS = new Set(["request", "ack", "claim", "evidence", "decision", "blocker", "handoff", "clarification-request",
  "orchestrator-guidance", "resolved-by-policy", "human-escalation", "human-feedback", "integration-summary"]);
const STATUSES = new Set(["open", "acknowledged", "in_progress", "resolved", "closed", "superseded", "cancelled"]);
const OPEN = new Set(["open", "acknowledged", "in_progress"]);
const PRIORITIES = new Set(["low", "normal", "high", "urgent"]);

function arr(v) { return Array.from(new Set((Array.isArray(v) ? v : []).map((x) => String(x).trim()).filter(Boolean))); }
function normalize(raw) {
  const kind = String(raw.kind || "").toLowerCase();
  if (!KINDS.has(kind)) throw new Error(`Coordination kind must be one of ...`);
  const status = String(raw.status || "open").toLowerCase();
  if (!STATUSES.has(status)) throw new Error("Coordination status must be one of ...");
  const priority = String(raw.priority || "normal").toLowerCase();
  if (!PRIORITIES.has(priority)) throw new Error("Coordination priority must be one of ...");
  const createdAt = raw.createdAt || new Date().toISOString();
  return {
    recordVersion: 1, id: raw.id, kind, wave: raw.wave, lane: raw.lane, agentId: raw.agentId,
    targets: arr(raw.targets), status, priority, artifactRefs: arr(raw.artifactRefs), dependsOn: arr(raw.dependsOn),
    closureCondition: String(raw.closureCondition || ""), createdAt, updatedAt: raw.updatedAt || createdAt,
    confidence: String(raw.confidence || "medium").toLowerCase(), summary: String(raw.summary || ""),
    detail: String(raw.detail || ""), attempt: raw.attempt ?? null, source: raw.source || "launcher",
    executorId: raw.executorId || "", requesterLane: raw.requesterLane || "", ownerLane: raw.ownerLane || "",
    requesterWave: raw.requesterWave ?? null, ownerWave: raw.ownerWave ?? null, required: raw.required === true,
  };
}

function reimplemented(text) {
  const records = text.split("\n").filter((l) => l.trim()).map((l) => normalize(JSON.parse(l)));
  records.sort((a, b) => (a.updatedAt < b.updatedAt ? -1 : a.updatedAt > b.updatedAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const byId = new Map();
  for (const r of records) {
    const prev = byId.get(r.id);
    byId.set(r.id, prev ? { ...prev, ...r, createdAt: prev.createdAt } : r);
  }
  const latestRecords = Array.from(byId.values());
  const openRecords = latestRecords.filter((r) => OPEN.has(r.status));
  const recordsByAgentId = new Map();
  const recordsByTarget = new Map();
  for (const r of latestRecords) {
    if (!recordsByAgentId.has(r.agentId)) recordsByAgentId.set(r.agentId, []);
    recordsByAgentId.get(r.agentId).push(r);
    for (const t of r.targets) {
      if (!recordsByTarget.has(t)) recordsByTarget.set(t, []);
      recordsByTarget.get(t).push(r);
    }
  }
  const kinds = {};
  for (const k of KINDS) kinds[k] = latestRecords.filter((r) => r.kind === k);
  return { records, latestRecords, openRecords, byId, recordsByAgentId, recordsByTarget, ...kinds };
}

const line = (r) => `- [${r.priority}] ${r.kind}/${r.status} ${r.agentId} -> ${r.targets.join(", ")}: ${r.summary} (${r.id})`;
function projections(state) {
  const open = state.openRecords;
  const prio = { urgent: 0, high: 1, normal: 2, low: 3 };
  const sorted = (rs) => rs.slice().sort((a, b) => prio[a.priority] - prio[b.priority]);
  const blockers = sorted(open.filter((r) => r.kind === "blocker"));
  const requests = open.filter((r) => r.kind === "request");
  const shared = [`# shared summary`, `- open requests: ${requests.length}`, ...blockers.slice(0, 8).map(line)].join("\n");
  const board = [`# board`, ...sorted(open).slice(0, 200).map(line), ...state.records.slice(-40).map(line)].join("\n");
  const inboxes = [];
  for (let i = 1; i <= agents; i += 1) {
    const id = `A${i}`;
    const owned = [`src/mod${i}/`, `docs/mod${i}.md`];
    const caps = [`capability:cap-${i % 12}`, "capability:runtime"];
    const targeted = open.filter((r) => r.targets.some((t) => t === id || t === `agent:${id}` || caps.includes(t)));
    const own = open.filter((r) => r.agentId === id);
    const relevant = open.filter((r) => r.artifactRefs.some((ref) => owned.some((p) => ref.startsWith(p))));
    inboxes.push([`# inbox ${id}`, ...sorted(targeted).slice(0, 12).map(line), ...sorted(own).slice(0, 12).map(line),
      ...sorted(relevant).slice(0, 12).map(line)].join("\n"));
  }
  return shared.length + board.length + inboxes.length;
}

// The roster bench_coordination.py builds (make_roster), in the Node.js tool's agent shape.
function roster() {
  const members = [];
  for (let i = 1; i <= agents; i += 1) {
    members.push({
      agentId: `A${i}`, title: `Agent ${i}`, ownedPaths: [`src/mod${i}/`, `docs/mod${i}.md`],
      components: [`component-${i % 16}`], capabilities: [`cap-${i % 12}`, "runtime"],
    });
  }
  return members;
}

// The tool's own refresh of the projections the issue names (coord-cli.mjs "render" and "inbox",
// the launcher's poll): helper assignments, the board, the shared summary and one inbox per agent.
function toolProjections(store, routing) {
  const members = roster();
  const wave = { wave: 7, file: "waves/wave-7.md", agents: members };
  const capabilityRouting = { preferredAgents: { "cap-0": ["A12"] } };
  return (state) => {
    const capabilityAssignments = routing.buildRequestAssignments({
      coordinationState: state, agents: members, ledger: { tasks: [] }, capabilityRouting,
    });
    let size = store.renderCoordinationBoardProjection({
      wave: wave.wave, waveFile: wave.file, agents: members, state, capabilityAssignments,
    }).length;
    size += store.compileSharedSummary({ wave, state, capabilityAssignments }).text.length;
    for (const agent of members) {
      size += store.compileAgentInbox({ wave, agent, state, capabilityAssignments }).text.length;
    }
    return size;
  };
}

async function main() {
  let read = null;
  let project = projections;
  let label = "re-implementation of the Node.js tool's algorithm (spec §6.2, §6.5)";
  const tool = process.env.WAVE_NODE_TOOL;
  if (tool) {
    const dir = path.join(tool, "scripts", "wave-orchestrator");
    const store = path.join(dir, "coordination-store.mjs");
    if (!fs.existsSync(store)) throw new Error(`WAVE_NODE_TOOL=${tool}: no scripts/wave-orchestrator/coordination-store.mjs`);
    const mod = await import(pathToFileURL(store).href);
    read = (p) => mod.readMaterializedCoordinationState(p);
    const routingFile = path.join(dir, "routing-state.mjs");
    if (typeof mod.compileAgentInbox === "function" && fs.existsSync(routingFile)) {
      project = toolProjections(mod, await import(pathToFileURL(routingFile).href));
    }
    const pkg = JSON.parse(fs.readFileSync(path.join(tool, "package.json"), "utf8"));
    label = `the Node.js tool itself, ${pkg.name}@${pkg.version}`;
    if (project === projections) label += " (its store; projections re-implemented: no inbox compiler found)";
  }
  if (!read) read = (p) => reimplemented(fs.readFileSync(p, "utf8"));
  const materialize = [];
  const withProjections = [];
  const materializeCpu = [];
  const projectionsCpu = [];
  // process.cpuUsage(): user + system CPU of the whole process (GC and compiler threads included).
  const cpuSeconds = (since) => { const u = process.cpuUsage(since); return (u.user + u.system) / 1e6; };
  for (let i = 0; i < runs; i += 1) {
    let t = performance.now();
    let c = process.cpuUsage();
    read(logPath);
    materialize.push((performance.now() - t) / 1000);
    materializeCpu.push(cpuSeconds(c));
    t = performance.now();
    c = process.cpuUsage();
    project(read(logPath));
    withProjections.push((performance.now() - t) / 1000);
    projectionsCpu.push(cpuSeconds(c));
  }
  const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(JSON.stringify({
    label,
    materialize: median(materialize),
    projections: median(withProjections),
    materializeCpu: median(materializeCpu),
    projectionsCpu: median(projectionsCpu),
    runs: { materialize, withProjections, materializeCpu, projectionsCpu },
  }));
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
